import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts the official DynamoDB Local bound to one host (127.0.0.1 by default).
 *
 * DynamoDB Local has no host flag: its Jetty connector listens on every interface, which would
 * expose an unauthenticated database to the network. This launcher builds the server exactly as
 * DynamoDB Local's own CLI does, then sets the host on every Jetty connector before it starts.
 *
 * Runs with Java's single-file source launcher (JDK 11+), no compile step:
 *   java -Djava.library.path=LIB -cp "DynamoDBLocal.jar:LIB/*" LocalDynamoLauncher.java \
 *        -sharedDb -inMemory -port 0 -disableTelemetry
 * (dynamodb-local.ts compiles it once into a tmpdir cache instead, which starts about 0.5 s faster.)
 *
 * Arguments are DynamoDB Local's own, with one addition: "-port 0" asks the kernel for a free port
 * (DynamoDB Local itself rejects 0), which avoids a pick-then-bind race between parallel starts.
 * DynamoDB Local then still prints its default "Port: 8000" in its configuration banner; the real
 * port is on the line "DynamoDB Local listening on HOST:PORT" printed to stdout once listening.
 *
 * System properties:
 *   dynamodb.local.host        host to bind (default 127.0.0.1)
 *   dynamodb.local.exitOnStdinEof  "true" (default): exit when stdin closes, so the emulator never
 *                              outlives the process that started it, even if that one is SIGKILLed.
 *
 * Telemetry: the switch used is DynamoDB Local's "-disableTelemetry" option
 * (CommandLineInputConstants.TELEMETRY_OPTION); the Node side also sets DDB_LOCAL_TELEMETRY=0,
 * the variable TelemetryUtil.isTelemetryEnabled reads. Beyond both switches, telemetry is only
 * ever created by ServerRunner.main (Telemetry.configureTelemetry); this launcher does not call
 * main, so Telemetry.getTelemetry() stays empty and DynamoDBProxyServer.start() sends nothing.
 */
public final class LocalDynamoLauncher {
    private static final String READY_PREFIX = "DynamoDB Local listening on ";

    private LocalDynamoLauncher() {}

    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
        boolean ephemeralPort = false;
        List<String> forwarded = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if ("-port".equals(args[i]) && i + 1 < args.length && "0".equals(args[i + 1])) {
                ephemeralPort = true;
                i++;
                continue;
            }
            forwarded.add(args[i]);
        }

        if (!"false".equals(System.getProperty("dynamodb.local.exitOnStdinEof", "true"))) {
            exitWhenStdinCloses();
        }

        DynamoDBProxyServer proxy =
                ServerRunner.createServerFromCommandLineArgs(forwarded.toArray(new String[0]));
        if (proxy == null) {
            // The CLI parser has already printed why (bad option, -help, -version).
            System.exit(2);
        }
        Server jetty = jettyServerOf(proxy);

        List<ServerConnector> connectors = new ArrayList<>();
        for (Connector connector : jetty.getConnectors()) {
            if (connector instanceof ServerConnector) {
                ServerConnector serverConnector = (ServerConnector) connector;
                serverConnector.setHost(host);
                if (ephemeralPort) {
                    serverConnector.setPort(0);
                }
                connectors.add(serverConnector);
            }
        }
        if (connectors.isEmpty() || connectors.size() != jetty.getConnectors().length) {
            // Refuse to start rather than risk a connector we could not restrict to the host.
            System.err.println("LocalDynamoLauncher: unexpected Jetty connectors, refusing to start: "
                    + List.of(jetty.getConnectors()));
            System.exit(3);
        }

        // DynamoDBProxyServer.start() prints and swallows a SocketException, so check the outcome.
        proxy.start();
        for (ServerConnector connector : connectors) {
            if (!jetty.isStarted() || connector.getLocalPort() <= 0) {
                System.err.println("LocalDynamoLauncher: DynamoDB Local did not start on " + host);
                System.exit(4);
            }
        }
        for (ServerConnector connector : connectors) {
            System.out.println(READY_PREFIX + host + ":" + connector.getLocalPort());
        }
        System.out.flush();
        proxy.join();
    }

    /** DynamoDBProxyServer keeps its Jetty Server in a private field named "server". */
    private static Server jettyServerOf(DynamoDBProxyServer proxy) throws ReflectiveOperationException {
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        return (Server) field.get(proxy);
    }

    private static void exitWhenStdinCloses() {
        Thread watcher = new Thread(() -> {
            InputStream in = System.in;
            byte[] buffer = new byte[256];
            try {
                while (in.read(buffer) >= 0) {
                    // Discard input; only end-of-stream matters.
                }
            } catch (IOException ignored) {
                // A broken pipe means the parent is gone too.
            }
            Runtime.getRuntime().halt(0);
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
