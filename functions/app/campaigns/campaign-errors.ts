export class CampaignNotFound extends Error {
  override readonly name = 'CampaignNotFound';
  constructor(id: string) {
    super(`上门服务活动 ${id} 不存在 / campaign ${id} does not exist`);
  }
}
