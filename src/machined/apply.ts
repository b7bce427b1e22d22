import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type ApplyConfiguration, type ApplyConfigurationRequest, ApplyConfigurationRequest_Mode as Mode } from '../api/gen/machine/machine.js';
import { goDuration } from '../config/decode.js';
import { ConfigError, formatIssue } from '../config/errors.js';
import { parsedConfigText } from '../controllers/config/machine-config-cache.js';
import { type ModeName, validateConfig } from '../config/validate.js';
import { newResource } from '../cosi/resource.js';
import type { State } from '../cosi/state.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../resources/config/machine-config.js';
import type { ConfigStore } from './config-store.js';

export class ApplyError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

const DEFAULT_TRY_TIMEOUT_MS = 60_000;
const activePtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };

/** A unified diff of two texts, line by line (longest common subsequence), as the dry-run summary shows it. */
export function lineDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`-${x[i++]}`);
    else out.push(`+${y[j++]}`);
  }
  return out.join('\n');
}

/**
 * ApplyConfiguration as machined serves it: one apply at a time; the config is loaded and validated (errors name
 * their path); NO_REBOOT applies it now and stores it (atomically), STAGED stores it for the next boot, REBOOT stores
 * it and reboots, AUTO applies it now unless the change needs a reboot (a new machine type), TRY applies it now and
 * goes back to the previous config after the timeout unless another apply comes first; a dry run answers with the
 * diff and changes nothing. While the node waits for its first config (maintenance), REBOOT means NO_REBOOT.
 */
export class ConfigApplier {
  private busy = false;
  private tryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: State,
    private readonly store: ConfigStore,
    private readonly mode: ModeName,
    private readonly logger: Logger,
    private readonly node: {
      /** starts the reboot sequence (in the background) after a REBOOT apply stored the config */
      reboot?(): void;
      /** the node waits for its first config (maintenance): REBOOT then means NO_REBOOT */
      inMaintenance?(): boolean;
    } = {},
  ) {}

  private async active(): Promise<string | undefined> {
    try {
      return ((await this.state.get(activePtr)).spec as MachineConfigSpec).text;
    } catch {
      return undefined;
    }
  }

  private async setActive(text: string): Promise<void> {
    const cur = await this.active();
    if (cur === undefined) await this.state.create(newResource(activePtr, { text }, { annotations: { 'talos.dev/yaml-spec': '1' } }));
    else if (cur !== text) await this.state.updateWithConflicts(activePtr, (r) => {
      (r.spec as MachineConfigSpec).text = text;
    });
  }

  /**
   * Stores the config on disk before anything takes it. The write is synchronous on purpose: written in the
   * background (one piece of work on the thread pool) while the controllers took the new config, it made the config
   * reach its resources later, not sooner (a median of 15-23 ms against 11-13 on a process node), probably because
   * the flush competes with the files the new config sets off.
   */
  private save(text: string): void {
    try {
      this.store.write(Buffer.from(text));
    } catch (e) {
      throw new ApplyError(status.INTERNAL, `storing the machine config in ${this.store.path}: ${(e as Error).message}`);
    }
  }

  async apply(req: ApplyConfigurationRequest): Promise<ApplyConfiguration> {
    if (this.busy) throw new ApplyError(status.FAILED_PRECONDITION, 'another apply configuration is already in progress');
    this.busy = true;
    try {
      return await this.applyOnce(req);
    } finally {
      this.busy = false;
    }
  }

  private async applyOnce(req: ApplyConfigurationRequest): Promise<ApplyConfiguration> {
    const text = Buffer.from(req.data).toString('utf8');
    let warnings: string[];
    const current = await this.active();
    const maintenance = this.node.inMaintenance?.() ?? false;
    let immediate: string | undefined;
    try {
      // parsed through the cache the controllers read: they find this parse when the config becomes active
      const cfg = parsedConfigText(text);
      if (!cfg.v1alpha1) throw new ApplyError(status.INVALID_ARGUMENT, "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?");
      const result = validateConfig(cfg, this.mode, { installed: true });
      if (result.errors.length) throw new ApplyError(status.INVALID_ARGUMENT, result.errors.map(formatIssue).join('; '));
      warnings = result.warnings.map(formatIssue);
      const curType = current ? parsedConfigText(current).machineType : undefined;
      if (curType && curType !== cfg.machineType) immediate = `the machine type cannot change without a reboot (${curType} → ${cfg.machineType})`;
    } catch (e) {
      if (e instanceof ApplyError) throw e;
      if (e instanceof ConfigError) throw new ApplyError(status.INVALID_ARGUMENT, e.message);
      throw e;
    }

    let mode = maintenance && req.mode === Mode.REBOOT ? Mode.NO_REBOOT : req.mode;
    let details: string;
    let modeErr = '';
    switch (mode) {
      case Mode.REBOOT:
        if (!this.node.reboot) throw new ApplyError(status.UNIMPLEMENTED, 'applying with a reboot is not available on this node: use --mode no-reboot or staged');
        details = 'Applied configuration with a reboot';
        break;
      case Mode.NO_REBOOT:
      case Mode.TRY:
        if (immediate !== undefined && !maintenance) throw new ApplyError(status.INVALID_ARGUMENT, `${immediate}: use --mode staged or reboot`);
        details = 'Applied configuration without a reboot';
        break;
      case Mode.AUTO:
        if (immediate !== undefined && !maintenance && this.node.reboot) {
          mode = Mode.REBOOT;
          details = 'Applied configuration with a reboot';
          modeErr = `: ${immediate}`;
        } else if (immediate !== undefined && !maintenance) {
          throw new ApplyError(status.INVALID_ARGUMENT, `${immediate}: use --mode staged`);
        } else {
          mode = Mode.NO_REBOOT;
          details = 'Applied configuration without a reboot';
        }
        break;
      case Mode.STAGED:
        details = 'Staged configuration to be applied after the next reboot';
        break;
      default:
        throw new ApplyError(status.INVALID_ARGUMENT, `incorrect mode '${String(req.mode)}' specified for the apply config call`);
    }

    if (req.dryRun) {
      const diff = lineDiff(current ?? '', text);
      return { metadata: undefined, warnings: [], mode, modeDetails: `Dry run summary:\n${details} (skipped in dry-run).\n${diff === '' ? 'No changes.' : diff}` };
    }

    // a new apply ends a running try (a new TRY starts its own timer below)
    if (this.tryTimer) {
      clearTimeout(this.tryTimer);
      this.tryTimer = undefined;
    }
    switch (mode) {
      case Mode.NO_REBOOT:
        this.save(text);
        await this.setActive(text);
        break;
      case Mode.STAGED:
        this.save(text);
        break;
      case Mode.REBOOT:
        this.save(text);
        this.node.reboot!();
        break;
      case Mode.TRY: {
        const timeout = req.tryModeTimeout ? Number(req.tryModeTimeout.seconds) * 1000 + req.tryModeTimeout.nanos / 1e6 : DEFAULT_TRY_TIMEOUT_MS;
        details += `\nThe config is applied in 'try' mode and will be automatically reverted back in ${goDuration(timeout)}`;
        await this.setActive(text);
        this.tryTimer = setTimeout(() => {
          this.tryTimer = undefined;
          if (current === undefined) return;
          this.logger.info('try mode timeout: going back to the previous config');
          void this.setActive(current).catch((e: unknown) => this.logger.error({ err: (e as Error).message }, 'reverting the config failed'));
        }, timeout);
        this.tryTimer.unref();
        break;
      }
    }
    this.logger.info({ mode: Mode[mode] }, 'apply config request');
    return { metadata: undefined, warnings, mode, modeDetails: details + modeErr };
  }

  close(): void {
    if (this.tryTimer) clearTimeout(this.tryTimer);
  }
}
