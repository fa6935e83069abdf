/**
 * Which bureau sees a campaign's messages in the deliveries listing: the one authority that issues every
 * type the campaign covers (the bureau that may manage it, see mayManageCampaign). A campaign whose types
 * span authorities has none, and only operators see its messages.
 */
export function campaignAuthority(types: readonly string[], catalogue: ReadonlyArray<{ code: string; authority: string }>): string | undefined {
  const authorities = new Set(types.map((code) => catalogue.find((t) => t.code === code)?.authority));
  if (authorities.size !== 1) return undefined;
  const [only] = authorities;
  return only;
}
