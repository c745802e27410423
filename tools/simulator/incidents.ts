/**
 * The simulator's Defender data: incidents per tenant, every version ever made (with the time it becomes
 * visible to list calls, for eventual consistency), and the two views of one incident: Microsoft Graph
 * (`/v1.0/security/incidents`) and the legacy Defender XDR API (`/api/incidents`), shaped as the fixtures
 * in ../shared/fixtures.
 */
import { formatTicks, msFromTicks, parseTicks, Rng, ticksFromMs } from './util';

export type IncidentStatus = 'active' | 'inProgress' | 'resolved' | 'redirected' | 'awaitingAction';
export type Severity = 'unknown' | 'informational' | 'low' | 'medium' | 'high';
export type Classification = 'unknown' | 'falsePositive' | 'truePositive' | 'informationalExpectedActivity';

export interface IncidentComment {
  comment: string;
  createdBy: string;
  createdTime: string;
}

export interface DeviceInfo {
  mdeDeviceId: string;
  deviceDnsName: string;
  osPlatform: string;
  osBuild: number;
  version: string;
  riskScore: 'none' | 'low' | 'medium' | 'high';
  healthStatus: 'active' | 'inactive';
  rbacGroupId: number;
  rbacGroupName: string;
  firstSeenDateTime: string;
  ip: string;
}

export interface UserInfo {
  accountName: string;
  domainName: string;
  userSid: string;
  azureAdUserId: string;
  userPrincipalName: string;
}

export interface FileInfo {
  fileName: string;
  filePath: string;
  sha1: string;
  sha256: string;
  fileSize: number;
}

export interface AlertData {
  id: string;
  title: string;
  description: string;
  category: string;
  serviceSource: string;
  detectionSource: string;
  detectorId: string;
  status: 'new' | 'inProgress' | 'resolved';
  severity: Severity;
  classification: Classification | null;
  determination: string | null;
  assignedTo: string | null;
  threatFamilyName: string | null;
  actorDisplayName: string | null;
  mitreTechniques: string[];
  createdDateTime: string;
  lastUpdateDateTime: string;
  resolvedDateTime: string | null;
  firstActivityDateTime: string;
  lastActivityDateTime: string;
  investigationState: string;
  device: DeviceInfo | null;
  user: UserInfo | null;
  file: FileInfo | null;
  remoteIp: string | null;
}

/** The state of one incident, API-neutral (Graph names and camelCase enums). */
export interface IncidentData {
  id: number;
  displayName: string;
  description: string;
  createdDateTime: string;
  status: IncidentStatus;
  severity: Severity;
  classification: Classification;
  determination: string;
  assignedTo: string | null;
  customTags: string[];
  systemTags: string[];
  comments: IncidentComment[];
  redirectIncidentId: number | null;
  resolvingComment: string | null;
  /** Who changed the incident last (an update's or comment's caller). */
  lastModifiedBy: string | null;
  summary: string | null;
  priorityScore: number | null;
  alerts: AlertData[];
}

export interface IncidentVersion {
  ticks: bigint;
  /** The exact API string of the last-update time. */
  lastUpdate: string;
  /** Clock time (ms) from which list calls show this version. */
  visibleAt: number;
  data: IncidentData;
}

export interface HistoryEntry {
  incidentId: string;
  lastUpdate: string;
  visibleAt: number;
}

export interface SeedOptions {
  /** Alerts per incident: a number, or [min, max]. Default [1, 4]. */
  alertsPerIncident?: number | [number, number];
  /** Last-update times are spread over this many past hours. Default 6. */
  spreadHours?: number;
  /** Partial fields applied to every seeded incident. */
  overrides?: IncidentPatch;
}

export interface CreateOptions {
  alerts?: number;
  /** Exact last-update stamp (API string); default now. */
  stamp?: string;
  visibleAfterMs?: number;
}

export interface UpdateOptions {
  /** Version becomes visible to list calls this long after its stamp. */
  visibleAfterMs?: number;
  /** Force the exact last-update string (e.g. to give several incidents one stamp). */
  stamp?: string;
}

export type IncidentPatch = Partial<
  Pick<
    IncidentData,
    | 'displayName'
    | 'description'
    | 'status'
    | 'severity'
    | 'classification'
    | 'determination'
    | 'assignedTo'
    | 'customTags'
    | 'systemTags'
    | 'resolvingComment'
    | 'lastModifiedBy'
    | 'summary'
    | 'priorityScore'
  >
> & { comment?: string; commentBy?: string };

/** What `get` returns: the newest version (visible or not) plus its exact last-update string. */
export interface IncidentSnapshot extends IncidentData {
  lastUpdateDateTime: string;
  versions: number;
}

// ---------------------------------------------------------------------------------------------------
// Vocabulary for realistic data.

const ALERT_TEMPLATES: {
  title: string;
  category: string;
  serviceSource: string;
  detectionSource: string;
  mitre: string[];
  threat?: string;
  description: string;
}[] = [
  {
    title: 'Suspicious execution of hidden file',
    category: 'DefenseEvasion',
    serviceSource: 'microsoftDefenderForEndpoint',
    detectionSource: 'antivirus',
    mitre: ['T1564.001'],
    description:
      'A hidden file has been launched. This activity could indicate a compromised host. Attackers often hide files associated with malicious tools to evade file system inspection and defenses.',
  },
  {
    title: "'Mimikatz' hacktool was detected",
    category: 'Malware',
    serviceSource: 'microsoftDefenderForEndpoint',
    detectionSource: 'antivirus',
    mitre: [],
    threat: 'Mimikatz',
    description:
      'Readily available tools, such as hacking programs, can be used by unauthorized individuals to spy on users.',
  },
  {
    title: 'Ransomware activity',
    category: 'Impact',
    serviceSource: 'microsoftDefenderForCloudApps',
    detectionSource: 'cloudAppSecurity',
    mitre: ['T1486'],
    description:
      'The user manipulated many files with multiple extensions ending with an uncommon extension. This is an unusual number of file manipulations and is indicative of a potential ransomware attack.',
  },
  {
    title: 'Suspicious PowerShell command line',
    category: 'Execution',
    serviceSource: 'microsoftDefenderForEndpoint',
    detectionSource: 'microsoftDefenderForEndpoint',
    mitre: ['T1059.001'],
    description:
      'A suspicious PowerShell activity was observed on the machine. This behavior may indicate that PowerShell was used during installation, exploration, or in some cases in lateral movement activities.',
  },
  {
    title: 'Impossible travel activity',
    category: 'InitialAccess',
    serviceSource: 'microsoftDefenderForCloudApps',
    detectionSource: 'cloudAppSecurity',
    mitre: ['T1078'],
    description: 'The user signed in from two countries within a time span shorter than the travel time.',
  },
  {
    title: 'Email messages containing malicious URL removed after delivery',
    category: 'InitialAccess',
    serviceSource: 'microsoftDefenderForOffice365',
    detectionSource: 'microsoftDefenderForOffice365',
    mitre: ['T1566.002'],
    description: 'Emails with a malicious URL were delivered and later removed.',
  },
  {
    title: 'Suspicious connection to a command and control server',
    category: 'CommandAndControl',
    serviceSource: 'microsoftDefenderForEndpoint',
    detectionSource: 'microsoftDefenderForEndpoint',
    mitre: ['T1071.001', 'T1105'],
    description: 'A process made a network connection to a known command and control server.',
  },
  {
    title: 'Suspected DCSync attack (replication of directory services)',
    category: 'CredentialAccess',
    serviceSource: 'microsoftDefenderForIdentity',
    detectionSource: 'microsoftDefenderForIdentity',
    mitre: ['T1003.006'],
    description: 'A replication request was sent from a computer that is not a domain controller.',
  },
];

// Graph names: the typed v1.0 model's `security.ServiceSource` and `security.DetectionSource` (the
// detection source of Defender for Cloud Apps is `cloudAppSecurity`). Legacy names: api-list-incidents'
// example has serviceSource `MicrosoftCloudAppSecurity` / `MicrosoftDefenderATP` and detectionSource
// `MCAS` / `WindowsDefenderAv`; the rest are the codes of the Defender for Endpoint alert resource type
// (`WindowsDefenderAtp`, `OfficeATP`) and, undocumented, what the service shows for Defender for
// Identity and Office 365 service sources.
const LEGACY_SERVICE_SOURCE: Record<string, string> = {
  microsoftDefenderForEndpoint: 'MicrosoftDefenderATP',
  microsoftDefenderForCloudApps: 'MicrosoftCloudAppSecurity',
  microsoftDefenderForOffice365: 'MicrosoftDefenderForOffice365',
  microsoftDefenderForIdentity: 'AzureAtp',
};
const LEGACY_DETECTION_SOURCE: Record<string, string> = {
  antivirus: 'WindowsDefenderAv',
  microsoftDefenderForEndpoint: 'WindowsDefenderAtp',
  cloudAppSecurity: 'MCAS',
  microsoftDefenderForOffice365: 'OfficeATP',
  microsoftDefenderForIdentity: 'AzureATP',
};

/** Determinations a generated incident gets, per classification (Graph's names). */
const FP_DETERMINATIONS = ['notMalicious', 'notEnoughDataToValidate', 'other'];
const IEA_DETERMINATIONS = ['securityTesting', 'lineOfBusinessApplication', 'confirmedActivity'];
const TP_DETERMINATIONS = [
  'multiStagedAttack',
  'malware',
  'phishing',
  'compromisedAccount',
  'maliciousUserActivity',
  'unwantedSoftware',
  'apt',
];
const ANALYSTS = ['KaiC', 'DavidS', 'secop123', 'AmyW', 'LeeG'];
const CUSTOM_TAGS = ['Demo', 'VIP', 'Finance', 'Server', 'Phishing campaign', 'Escalated'];
const SYSTEM_TAGS = ['Defender Experts', 'Ransomware', 'Attack disruption', 'Credential theft'];
const USERS = ['testUser2', 'jdoe', 'asmith', 'mbrown', 'kwhite', 'svc-backup'];
const HOSTS = ['user5cx', 'srv-file01', 'wks-0142', 'dc01', 'laptop-ana', 'build-agent-7'];
const PLATFORMS: [string, string, number][] = [
  ['Windows10', '22H2', 19045],
  ['Windows11', '23H2', 22631],
  ['WindowsServer2016', '1607', 14393],
  ['WindowsServer2022', '21H2', 20348],
];
const FILES = ['MsSense.exe', 'Detector.UnitTests.dll', 'invoice.pdf.exe', 'mimikatz.exe', 'setup.ps1'];

// ---------------------------------------------------------------------------------------------------
// Enum mappings.

const pascal = (s: string): string => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

function legacySeverity(s: Severity): string {
  return s === 'unknown' ? 'UnSpecified' : pascal(s);
}
/**
 * Determinations the legacy API spells differently from Graph (api-update-incidents, api-list-incidents);
 * every other one is Graph's name in PascalCase.
 */
export const LEGACY_RENAMED_DETERMINATIONS: [legacy: string, graph: string][] = [
  ['NotAvailable', 'unknown'],
  ['Clean', 'notMalicious'],
  ['NoEnoughDataToValidate', 'notEnoughDataToValidate'],
];
export function determinationToLegacy(graph: string): string {
  const hit = LEGACY_RENAMED_DETERMINATIONS.find(([, g]) => g === graph);
  return hit ? hit[0] : pascal(graph);
}
function legacyDetermination(d: string | null): string | null {
  return d === null ? null : determinationToLegacy(d);
}
/** Graph alertStatus → the legacy alert status (api-list-incidents: New, Active, Resolved). */
const LEGACY_ALERT_STATUS: Record<AlertData['status'], string> = {
  new: 'New',
  inProgress: 'Active',
  resolved: 'Resolved',
};

// ---------------------------------------------------------------------------------------------------
// The store.

interface TenantData {
  nextId: number;
  incidents: Map<number, IncidentVersion[]>;
  domain: string;
}

export class IncidentStore {
  private readonly tenants = new Map<string, TenantData>();

  constructor(
    private readonly rng: Rng,
    private readonly clock: () => number,
    private readonly domainOf: (tenantId: string) => string,
  ) {}

  private tenant(tenantId: string): TenantData {
    let t = this.tenants.get(tenantId);
    if (!t) {
      t = { nextId: this.rng.int(100_000, 2_900_000), incidents: new Map(), domain: this.domainOf(tenantId) };
      this.tenants.set(tenantId, t);
    }
    return t;
  }

  /** A stamp for "now": current millisecond plus random 100-ns ticks (or none, so some print short). */
  private nowTicks(previous?: bigint): bigint {
    let ticks = ticksFromMs(this.clock());
    if (!this.rng.chance(0.3)) ticks += BigInt(this.rng.int(1, 9999));
    if (previous !== undefined && ticks <= previous) ticks = previous + 1n;
    return ticks;
  }

  private stampTicks(stamp: string | undefined, previous?: bigint): bigint {
    if (stamp === undefined) return this.nowTicks(previous);
    const t = parseTicks(stamp);
    if (t === undefined) throw new Error(`not an ISO date-time: ${stamp}`);
    return t;
  }

  private pushVersion(
    tenantId: string,
    data: IncidentData,
    ticks: bigint,
    visibleAfterMs = 0,
  ): IncidentVersion {
    const versions = this.tenant(tenantId).incidents.get(data.id) ?? [];
    const version: IncidentVersion = {
      ticks,
      lastUpdate: formatTicks(ticks),
      // Eventual consistency: a version shows in list results `visibleAfterMs` after its stamp.
      visibleAt: visibleAfterMs > 0 ? msFromTicks(ticks) + visibleAfterMs : this.clock(),
      data: structuredClone(data),
    };
    versions.push(version);
    this.tenant(tenantId).incidents.set(data.id, versions);
    return version;
  }

  private latest(tenantId: string, id: number): IncidentVersion {
    const v = this.tenant(tenantId).incidents.get(id)?.at(-1);
    if (!v) throw new Error(`incident ${id} not found in tenant ${tenantId}`);
    return v;
  }

  /** Creates `count` incidents whose last updates are spread over the past hours. */
  seed(tenantId: string, count: number, opts: SeedOptions = {}): IncidentSnapshot[] {
    const spreadMs = (opts.spreadHours ?? 6) * 3600_000;
    const now = this.clock();
    const out: IncidentSnapshot[] = [];
    for (let i = 0; i < count; i++) {
      const updateMs = now - Math.floor(this.rng.next() * spreadMs) - 1;
      const createdMs = updateMs - Math.floor(this.rng.next() * 48 * 3600_000);
      const range = opts.alertsPerIncident ?? [1, 4];
      const alerts = typeof range === 'number' ? range : this.rng.int(range[0], range[1]);
      const data = this.generate(tenantId, createdMs, updateMs, alerts);
      if (opts.overrides) this.applyPatch(data, opts.overrides, updateMs);
      let ticks = ticksFromMs(updateMs);
      if (!this.rng.chance(0.3)) ticks += BigInt(this.rng.int(1, 9999));
      this.pushVersion(tenantId, data, ticks);
      out.push(this.get(tenantId, data.id));
    }
    return out;
  }

  create(tenantId: string, partial: IncidentPatch = {}, opts: CreateOptions = {}): IncidentSnapshot {
    const ticks = this.stampTicks(opts.stamp);
    const ms = msFromTicks(ticks);
    const data = this.generate(tenantId, ms, ms, opts.alerts ?? this.rng.int(1, 3));
    data.createdDateTime = formatTicks(ticks);
    this.applyPatch(data, partial, ms);
    this.pushVersion(tenantId, data, ticks, opts.visibleAfterMs);
    return this.get(tenantId, data.id);
  }

  /** Records a new version (last-update bumped to now, or to `opts.stamp`). */
  update(
    tenantId: string,
    id: number | string,
    patch: IncidentPatch = {},
    opts: UpdateOptions = {},
  ): IncidentSnapshot {
    const prev = this.latest(tenantId, Number(id));
    const ticks = this.stampTicks(opts.stamp, opts.stamp === undefined ? prev.ticks : undefined);
    const data = structuredClone(prev.data);
    this.applyPatch(data, patch, msFromTicks(ticks));
    this.pushVersion(tenantId, data, ticks, opts.visibleAfterMs);
    return this.get(tenantId, data.id);
  }

  /** Merges `fromId` into `intoId`: its alerts move, it becomes `redirected` pointing at `intoId`. */
  merge(tenantId: string, fromId: number | string, intoId: number | string, opts: UpdateOptions = {}): void {
    const from = structuredClone(this.latest(tenantId, Number(fromId)).data);
    const into = structuredClone(this.latest(tenantId, Number(intoId)).data);
    into.alerts.push(...from.alerts);
    from.alerts = [];
    from.status = 'redirected';
    from.redirectIncidentId = into.id;
    const t1 = this.stampTicks(opts.stamp, this.latest(tenantId, into.id).ticks);
    this.pushVersion(tenantId, into, t1, opts.visibleAfterMs);
    const t2 = this.stampTicks(opts.stamp, this.latest(tenantId, from.id).ticks);
    this.pushVersion(tenantId, from, t2, opts.visibleAfterMs);
  }

  get(tenantId: string, id: number | string): IncidentSnapshot {
    const versions = this.tenant(tenantId).incidents.get(Number(id));
    const v = versions?.at(-1);
    if (!versions || !v) throw new Error(`incident ${id} not found in tenant ${tenantId}`);
    return { ...structuredClone(v.data), lastUpdateDateTime: v.lastUpdate, versions: versions.length };
  }

  has(tenantId: string, id: number): boolean {
    return this.tenant(tenantId).incidents.has(id);
  }

  ids(tenantId: string): string[] {
    return [...this.tenant(tenantId).incidents.keys()].map(String);
  }

  /** Every version ever made in the tenant, in creation order per incident. */
  history(tenantId: string): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (const [id, versions] of this.tenant(tenantId).incidents) {
      for (const v of versions)
        out.push({ incidentId: String(id), lastUpdate: v.lastUpdate, visibleAt: v.visibleAt });
    }
    return out;
  }

  /** What list calls see now: per incident the newest version whose visibleAt has passed. */
  visible(tenantId: string): IncidentVersion[] {
    const now = this.clock();
    const out: IncidentVersion[] = [];
    for (const versions of this.tenant(tenantId).incidents.values()) {
      for (let i = versions.length - 1; i >= 0; i--) {
        const v = versions[i]!;
        if (v.visibleAt <= now) {
          out.push(v);
          break;
        }
      }
    }
    return out;
  }

  /**
   * Test control, harsher than the service: the incident's newest version is withheld from list and get
   * calls (they show the version before it, as under eventual consistency) until `release`, however long
   * that is: late visibility beyond any overlap window (the completeness sweep's tests). The service's own
   * late visibility is `visibleAfterMs` (a delay after the stamp).
   */
  withhold(tenantId: string, id: number | string): void {
    this.latest(tenantId, Number(id)).visibleAt = Number.POSITIVE_INFINITY;
  }

  /** Ends `withhold`: the newest version is visible from now on. */
  release(tenantId: string, id: number | string): void {
    this.latest(tenantId, Number(id)).visibleAt = this.clock();
  }

  visibleOne(tenantId: string, id: number): IncidentVersion | undefined {
    return this.visible(tenantId).find((v) => v.data.id === id);
  }

  portalDomain(tenantId: string): string {
    return this.tenant(tenantId).domain;
  }

  applyPatch(data: IncidentData, patch: IncidentPatch, ms: number): void {
    const { comment, commentBy, ...fields } = patch;
    Object.assign(data, structuredClone(fields));
    if (comment !== undefined) {
      data.comments.push({
        comment,
        createdBy: commentBy ?? 'relay@simulator.local',
        createdTime: formatTicks(ticksFromMs(ms)),
      });
    }
    // A new classification without a determination recalculates it ("security-incident-update":
    // properties left out keep their values or are recalculated from the others).
    if (patch.classification !== undefined && patch.determination === undefined) {
      data.determination = 'unknown';
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Generation.

  private generate(tenantId: string, createdMs: number, updateMs: number, alertCount: number): IncidentData {
    const t = this.tenant(tenantId);
    const id = t.nextId;
    t.nextId += this.rng.int(1, 3);
    const r = this.rng;
    const alerts: AlertData[] = [];
    for (let i = 0; i < alertCount; i++) alerts.push(this.generateAlert(createdMs, updateMs));
    const first = alerts[0];
    const sevRank: Severity[] = ['informational', 'low', 'medium', 'high'];
    const severity = alerts.reduce<Severity>(
      (acc, a) => (sevRank.indexOf(a.severity) > sevRank.indexOf(acc) ? a.severity : acc),
      'informational',
    );
    const status = r.pick<IncidentStatus>(['active', 'active', 'active', 'inProgress', 'resolved']);
    const classification: Classification =
      status === 'resolved'
        ? r.pick<Classification>(['truePositive', 'falsePositive', 'informationalExpectedActivity'])
        : r.pick<Classification>(['unknown', 'unknown', 'truePositive']);
    const displayName =
      alertCount > 1
        ? `Multi-stage incident involving ${first?.category ?? 'Execution'} & ${alerts[1]?.category ?? 'Discovery'} on ${r.int(1, 9)} endpoints reported by multiple sources`
        : `${first?.title ?? 'Suspicious activity'} on one endpoint`;
    return {
      id,
      displayName,
      description: first?.description ?? '',
      createdDateTime: formatTicks(ticksFromMs(createdMs) + BigInt(r.int(0, 9999))),
      status,
      severity: r.chance(0.03) ? 'unknown' : severity,
      classification,
      determination:
        classification === 'truePositive'
          ? r.pick(TP_DETERMINATIONS)
          : classification === 'falsePositive'
            ? r.pick(FP_DETERMINATIONS)
            : classification === 'informationalExpectedActivity'
              ? r.pick(IEA_DETERMINATIONS)
              : 'unknown',
      assignedTo: status === 'active' && r.chance(0.5) ? null : `${r.pick(ANALYSTS)}@${t.domain}`,
      customTags: r.chance(0.4) ? [r.pick(CUSTOM_TAGS)] : [],
      systemTags: r.chance(0.3) ? [r.pick(SYSTEM_TAGS)] : [],
      comments: r.chance(0.3)
        ? [
            {
              comment: 'Investigating',
              createdBy: `${r.pick(ANALYSTS)}@${t.domain}`,
              createdTime: formatTicks(ticksFromMs(updateMs) - BigInt(r.int(1, 3600) * 10_000_000)),
            },
          ]
        : [],
      redirectIncidentId: null,
      resolvingComment: status === 'resolved' && r.chance(0.5) ? 'Handled by the SOC' : null,
      lastModifiedBy: status === 'active' && r.chance(0.5) ? null : `${r.pick(ANALYSTS)}@${t.domain}`,
      summary:
        alertCount > 1 ? `${alertCount} correlated alerts: ${first?.title ?? 'Suspicious activity'}` : null,
      priorityScore: r.int(0, 100),
      alerts,
    };
  }

  private generateAlert(createdMs: number, updateMs: number): AlertData {
    const r = this.rng;
    const tpl = r.pick(ALERT_TEMPLATES);
    const host = r.pick(HOSTS);
    const [osPlatform, version, osBuild] = r.pick(PLATFORMS);
    const userName = r.pick(USERS);
    const id = `da${r.int(100000000, 999999999)}${r.int(100000000, 999999999)}_${r.chance(0.5) ? '-' : ''}${r.int(100000000, 999999999)}`;
    const created = ticksFromMs(createdMs) - BigInt(r.int(0, 600_000) * 10_000);
    const firstActivity = created - BigInt(r.int(1, 48 * 3600) * 10_000_000);
    const isDevice = tpl.serviceSource === 'microsoftDefenderForEndpoint';
    return {
      id,
      title: tpl.title,
      description: tpl.description,
      category: tpl.category,
      serviceSource: tpl.serviceSource,
      detectionSource: tpl.detectionSource,
      detectorId: r.guid(),
      status: r.pick(['new', 'new', 'inProgress', 'resolved'] as const),
      severity: r.pick<Severity>(['informational', 'low', 'low', 'medium', 'medium', 'high']),
      classification: null,
      determination: null,
      assignedTo: null,
      threatFamilyName: tpl.threat ?? null,
      actorDisplayName: null,
      mitreTechniques: [...tpl.mitre],
      createdDateTime: formatTicks(created),
      lastUpdateDateTime: formatTicks(ticksFromMs(updateMs) - BigInt(r.int(0, 60_000) * 10_000)),
      resolvedDateTime: null,
      firstActivityDateTime: formatTicks(firstActivity - (firstActivity % 10_000n)),
      lastActivityDateTime: formatTicks(created - (created % 10_000n)),
      investigationState: r.pick([
        'UnsupportedAlertType',
        'UnsupportedOs',
        'Running',
        'Benign',
        'PendingApproval',
      ]),
      device: isDevice
        ? {
            mdeDeviceId: r.hex(40),
            deviceDnsName: `${host}.corp.contoso.com`,
            osPlatform,
            osBuild,
            version,
            riskScore: r.pick(['low', 'medium', 'high'] as const),
            healthStatus: 'active',
            rbacGroupId: r.int(1, 90),
            rbacGroupName: r.pick(['UnassignedGroup', 'WDATP-Ring0', 'Servers']),
            firstSeenDateTime: formatTicks(created - BigInt(r.int(1, 365) * 86400) * 10_000_000n),
            ip: `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`,
          }
        : null,
      user: {
        accountName: userName,
        domainName: 'CORP',
        userSid: `S-1-5-21-${r.int(1e9, 2e9)}-${r.int(1e8, 9e8)}-${r.int(1e9, 2e9)}-${r.int(1000, 9999)}`,
        azureAdUserId: r.guid(),
        userPrincipalName: `${userName}@contoso.com`,
      },
      file: isDevice
        ? {
            fileName: r.pick(FILES),
            filePath: 'C:\\Users\\Public\\Downloads',
            sha1: r.hex(40),
            sha256: r.hex(64),
            fileSize: r.int(1000, 9_000_000),
          }
        : null,
      remoteIp: r.chance(0.5) ? `${r.int(11, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}` : null,
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Views.

export interface ViewContext {
  tenantId: string;
  lastUpdate: string;
}

function graphEvidence(a: AlertData): Record<string, unknown>[] {
  const common = {
    createdDateTime: a.createdDateTime,
    verdict: 'unknown',
    remediationStatus: 'none',
    remediationStatusDetails: null,
  };
  const out: Record<string, unknown>[] = [];
  if (a.device) {
    out.push({
      '@odata.type': '#microsoft.graph.security.deviceEvidence',
      ...common,
      firstSeenDateTime: a.device.firstSeenDateTime,
      mdeDeviceId: a.device.mdeDeviceId,
      azureAdDeviceId: null,
      deviceDnsName: a.device.deviceDnsName,
      osPlatform: a.device.osPlatform,
      osBuild: a.device.osBuild,
      version: a.device.version,
      healthStatus: a.device.healthStatus,
      riskScore: a.device.riskScore,
      rbacGroupId: a.device.rbacGroupId,
      rbacGroupName: a.device.rbacGroupName,
      onboardingStatus: 'onboarded',
      defenderAvStatus: 'unknown',
      ipInterfaces: [a.device.ip],
      loggedOnUsers: [],
      roles: ['compromised'],
      detailedRoles: ['Main device'],
      tags: [],
    });
  }
  if (a.file && a.device) {
    out.push({
      '@odata.type': '#microsoft.graph.security.processEvidence',
      ...common,
      processId: 4780,
      parentProcessId: 668,
      processCommandLine: `"${a.file.fileName}"`,
      processCreationDateTime: a.createdDateTime,
      parentProcessCreationDateTime: a.device.firstSeenDateTime,
      detectionStatus: 'detected',
      mdeDeviceId: a.device.mdeDeviceId,
      roles: [],
      detailedRoles: [],
      tags: [],
      imageFile: {
        sha1: a.file.sha1,
        sha256: a.file.sha256,
        fileName: a.file.fileName,
        filePath: a.file.filePath,
        fileSize: a.file.fileSize,
        filePublisher: null,
        signer: null,
        issuer: null,
      },
      userAccount: {
        accountName: a.user?.accountName ?? 'SYSTEM',
        domainName: a.user?.domainName ?? 'NT AUTHORITY',
        userSid: a.user?.userSid ?? 'S-1-5-18',
        azureAdUserId: a.user?.azureAdUserId ?? null,
        userPrincipalName: a.user?.userPrincipalName ?? null,
      },
    });
  }
  if (a.user) {
    out.push({
      '@odata.type': '#microsoft.graph.security.userEvidence',
      ...common,
      roles: ['compromised'],
      detailedRoles: ['Impacted user'],
      tags: [],
      userAccount: { ...a.user, displayName: a.user.accountName },
    });
  }
  if (a.remoteIp) {
    out.push({
      '@odata.type': '#microsoft.graph.security.ipEvidence',
      ...common,
      ipAddress: a.remoteIp,
      countryLetterCode: null,
      roles: [],
      detailedRoles: [],
      tags: [],
    });
  }
  return out;
}

/** Alert `productName` per service source, as the portal names the products. */
const PRODUCT_NAME: Record<string, string> = {
  microsoftDefenderForEndpoint: 'Microsoft Defender for Endpoint',
  microsoftDefenderForCloudApps: 'Microsoft Defender for Cloud Apps',
  microsoftDefenderForOffice365: 'Microsoft Defender for Office 365',
  microsoftDefenderForIdentity: 'Microsoft Defender for Identity',
};

export function graphAlert(a: AlertData, incidentId: number, tenantId: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.security.alert',
    id: a.id,
    providerAlertId: a.id,
    incidentId: String(incidentId),
    status: a.status,
    severity: a.severity,
    classification: a.classification ?? 'unknown',
    determination: a.determination ?? 'unknown',
    serviceSource: a.serviceSource,
    detectionSource: a.detectionSource,
    detectorId: a.detectorId,
    tenantId,
    title: a.title,
    description: a.description,
    recommendedActions: 'Collect artifacts and determine scope',
    category: a.category,
    assignedTo: a.assignedTo,
    alertWebUrl: `https://security.microsoft.com/alerts/${a.id}?tid=${tenantId}`,
    incidentWebUrl: `https://security.microsoft.com/incidents/${incidentId}?tid=${tenantId}`,
    actorDisplayName: a.actorDisplayName,
    threatDisplayName: a.threatFamilyName,
    threatFamilyName: a.threatFamilyName,
    mitreTechniques: a.mitreTechniques,
    createdDateTime: a.createdDateTime,
    lastUpdateDateTime: a.lastUpdateDateTime,
    resolvedDateTime: a.resolvedDateTime,
    firstActivityDateTime: a.firstActivityDateTime,
    lastActivityDateTime: a.lastActivityDateTime,
    comments: [],
    productName: PRODUCT_NAME[a.serviceSource] ?? null,
    systemTags: [],
    evidence: graphEvidence(a),
  };
}

export function graphIncident(
  v: IncidentVersion,
  tenantId: string,
  expandAlerts: boolean,
): Record<string, unknown> {
  const d = v.data;
  const out: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.security.incident',
    id: String(d.id),
    incidentWebUrl: `https://security.microsoft.com/incidents/${d.id}?tid=${tenantId}`,
    redirectIncidentId: d.redirectIncidentId === null ? null : String(d.redirectIncidentId),
    tenantId,
    displayName: d.displayName,
    createdDateTime: d.createdDateTime,
    lastUpdateDateTime: v.lastUpdate,
    assignedTo: d.assignedTo,
    classification: d.classification,
    determination: d.determination,
    status: d.status,
    severity: d.severity,
    customTags: [...d.customTags],
    // security.alertComment in the typed model: createdByDisplayName / createdDateTime (the page's
    // example's createdBy / createdTime are the legacy API's names).
    comments: d.comments.map((c) => ({
      '@odata.type': '#microsoft.graph.security.alertComment',
      comment: c.comment,
      createdByDisplayName: c.createdBy,
      createdDateTime: c.createdTime,
    })),
    systemTags: [...d.systemTags],
    description: d.description,
    lastModifiedBy: d.lastModifiedBy,
    resolvingComment: d.resolvingComment,
    summary: d.summary,
    priorityScore: d.priorityScore,
  };
  if (expandAlerts) out.alerts = d.alerts.map((a) => graphAlert(a, d.id, tenantId));
  return out;
}

function legacyAlert(a: AlertData, incidentId: number): Record<string, unknown> {
  const entities: Record<string, unknown>[] = [];
  const deviceId = a.device?.mdeDeviceId ?? null;
  if (a.user) {
    entities.push({
      entityType: 'User',
      accountName: a.user.accountName,
      domainName: a.user.domainName,
      userSid: a.user.userSid,
      aadUserId: a.user.azureAdUserId,
      userPrincipalName: a.user.userPrincipalName,
      deviceId,
    });
  }
  if (a.file) {
    entities.push({
      entityType: 'File',
      sha1: a.file.sha1,
      sha256: a.file.sha256,
      fileName: a.file.fileName,
      filePath: a.file.filePath,
      deviceId,
    });
  }
  if (a.remoteIp) entities.push({ entityType: 'Ip', ipAddress: a.remoteIp, deviceId });
  return {
    alertId: a.id,
    incidentId,
    serviceSource: LEGACY_SERVICE_SOURCE[a.serviceSource] ?? pascal(a.serviceSource),
    creationTime: a.createdDateTime,
    lastUpdatedTime: a.lastUpdateDateTime,
    resolvedTime: a.resolvedDateTime,
    firstActivity: a.firstActivityDateTime,
    lastActivity: a.lastActivityDateTime,
    title: a.title,
    description: a.description,
    category: a.category,
    status: LEGACY_ALERT_STATUS[a.status],
    severity: legacySeverity(a.severity),
    investigationId: null,
    investigationState: a.investigationState,
    classification: a.classification === null ? null : pascal(a.classification),
    determination: legacyDetermination(a.determination),
    detectionSource: LEGACY_DETECTION_SOURCE[a.detectionSource] ?? pascal(a.detectionSource),
    assignedTo: a.assignedTo,
    actorName: a.actorDisplayName,
    threatFamilyName: a.threatFamilyName,
    mitreTechniques: a.mitreTechniques,
    devices: a.device
      ? [
          {
            mdatpDeviceId: a.device.mdeDeviceId,
            aadDeviceId: null,
            deviceDnsName: a.device.deviceDnsName,
            osPlatform: a.device.osPlatform,
            version: a.device.version,
            osProcessor: 'x64',
            osBuild: a.device.osBuild,
            healthStatus: pascal(a.device.healthStatus),
            riskScore: pascal(a.device.riskScore),
            rbacGroupName: a.device.rbacGroupName,
            rbacGroupId: a.device.rbacGroupId,
            firstSeen: a.device.firstSeenDateTime,
          },
        ]
      : [],
    entities,
  };
}

export function legacyIncident(v: IncidentVersion, tenantId: string): Record<string, unknown> {
  const d = v.data;
  return {
    incidentId: d.id,
    incidentUri: `https://security.microsoft.com/incidents/${d.id}?tid=${tenantId}`,
    redirectIncidentId: d.redirectIncidentId,
    incidentName: d.displayName,
    createdTime: d.createdDateTime,
    lastUpdateTime: v.lastUpdate,
    assignedTo: d.assignedTo,
    classification: pascal(d.classification),
    determination: legacyDetermination(d.determination),
    status: pascal(d.status),
    severity: legacySeverity(d.severity),
    tags: [...d.customTags],
    comments: d.comments.map((c) => ({ ...c })),
    alerts: d.alerts.map((a) => legacyAlert(a, d.id)),
  };
}

// ---------------------------------------------------------------------------------------------------
// OData $filter: `field op value` clauses joined by `and`.

export type FilterOp = 'eq' | 'ne' | 'ge' | 'gt' | 'le' | 'lt';
export interface FilterClause {
  field: string;
  op: FilterOp;
  value: string;
  ticks?: bigint;
}

export class ODataError extends Error {}

export function parseFilter(
  filter: string | null,
  dateFields: readonly string[],
  textFields: readonly string[],
): FilterClause[] {
  if (filter === null || filter.trim() === '') return [];
  const parts = filter.trim().split(/\s+and\s+/i);
  const clauses: FilterClause[] = [];
  for (const part of parts) {
    const m = /^\(?\s*(\w+)\s+(eq|ne|ge|gt|le|lt)\s+(.+?)\s*\)?$/i.exec(part.trim());
    if (!m) throw new ODataError(`Invalid filter clause: '${part}'.`);
    const [, rawField, rawOp, rawValue] = m as unknown as [string, string, string, string];
    const field = [...dateFields, ...textFields].find((f) => f.toLowerCase() === rawField.toLowerCase());
    if (!field) throw new ODataError(`Could not find a property named '${rawField}' on type 'incident'.`);
    const op = rawOp.toLowerCase() as FilterOp;
    let value = rawValue;
    if (/^'.*'$/.test(value)) value = value.slice(1, -1).replace(/''/g, "'");
    if (dateFields.includes(field)) {
      const ticks = parseTicks(value);
      if (ticks === undefined)
        throw new ODataError(
          `The DateTimeOffset text '${rawValue}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?'.`,
        );
      clauses.push({ field, op, value, ticks });
    } else {
      if (value === 'null' && !/^'/.test(rawValue)) value = '\u0000null';
      clauses.push({ field, op, value });
    }
  }
  return clauses;
}

function compare(a: bigint | string, b: bigint | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function matches(clauses: FilterClause[], get: (field: string) => bigint | string | null): boolean {
  for (const c of clauses) {
    const actual = get(c.field);
    if (c.ticks !== undefined) {
      if (typeof actual !== 'bigint') return false;
      const cmp = compare(actual, c.ticks);
      if (!opHolds(c.op, cmp)) return false;
    } else {
      const want = c.value === '\u0000null' ? null : c.value.toLowerCase();
      const have = actual === null ? null : String(actual).toLowerCase();
      if (c.op === 'eq' && have !== want) return false;
      if (c.op === 'ne' && have === want) return false;
      if (!['eq', 'ne'].includes(c.op)) {
        if (have === null || want === null) return false;
        if (!opHolds(c.op, compare(have, want))) return false;
      }
    }
  }
  return true;
}

function opHolds(op: FilterOp, cmp: number): boolean {
  switch (op) {
    case 'eq':
      return cmp === 0;
    case 'ne':
      return cmp !== 0;
    case 'ge':
      return cmp >= 0;
    case 'gt':
      return cmp > 0;
    case 'le':
      return cmp <= 0;
    case 'lt':
      return cmp < 0;
  }
}

export function ticksOf(text: string): bigint {
  const t = parseTicks(text);
  if (t === undefined) throw new Error(`bad time ${text}`);
  return t;
}
