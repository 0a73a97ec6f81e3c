// The audit's messages into ClickHouse (`audit --sink clickhouse://…`): one row per message in
// the `audit_messages` table with its campaign, batched and spooled by src/output/clickhouse.ts.
// The campaign, sender and indicator figures are queries over these rows (docs/schema.md).
import type { ClickHouseSink } from '../../output/clickhouse.js';
import type { AuditOutput, AuditPlan } from './audit.js';
import type { MessageRecord } from './spill.js';
import { hostOf, portOf } from './tally.js';

export class AuditClickHouseOutput implements AuditOutput {
  private plan: AuditPlan | undefined;
  private keys = new Map<string, string>();

  /** @param hashes SHA-256 of each capture of the run, by index */
  constructor(private readonly sink: ClickHouseSink, private readonly runId: string, private readonly hashes: readonly string[]) {}

  begin(plan: AuditPlan): void {
    this.plan = plan;
    this.keys = new Map(plan.campaigns.map((p) => [p.id, p.key]));
  }

  message(r: MessageRecord, campaign: string | undefined): void {
    const capture = this.plan?.captures[r.capture];
    this.sink.add({
      run_id: this.runId,
      capture: capture?.path ?? '',
      capture_sha256: capture?.sha256 ?? this.hashes[r.capture] ?? '',
      seq: r.seq,
      frame: r.frames[0] ?? 0,
      frames: r.frames,
      time: r.tsSec,
      time_us: Math.floor(r.tsNsec / 1000),
      protocol: r.protocol,
      transport: r.transport,
      src: r.src,
      dst: r.dst,
      src_ip: hostOf(r.src),
      dst_ip: hostOf(r.dst),
      dst_port: portOf(r.dst),
      from_name: r.from,
      to_names: r.to,
      text: r.text,
      status: r.status,
      error: r.error,
      campaign,
      campaign_key: campaign !== undefined ? this.keys.get(campaign) : undefined,
    });
  }

  end(): Promise<void> {
    return this.sink.close();
  }

  abort(): Promise<void> {
    return this.sink.close();
  }
}
