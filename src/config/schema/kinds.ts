/**
 * The document kinds of Talos v1.13 besides v1alpha1 (all `apiVersion: v1alpha1`). Each kind's fields are listed in
 * Talos's order; `apiVersion` and `kind` come first in every document.
 */
import { bool, dur, int, list, map, obj, type ObjSchema, type Schema, size, str, strList, strMap, uint16, uint32, uint8 } from './dsl.js';

export type KindArea = 'network' | 'block' | 'runtime' | 'cri' | 'security' | 'hardware' | 'siderolink' | 'extensions';

export interface KindSpec {
  kind: string;
  area: KindArea;
  /** named documents carry `name`, part of the document identity */
  named: boolean;
  /** the fields after apiVersion and kind */
  schema: ObjSchema;
  doc: string;
  /** kinds that may not appear with the same name in one config (Talos's ConflictsWithKinds) */
  conflictsWith?: string[];
}

const name = (doc = 'name of the document') => str({ doc, omit: false });

const routingTables = ['unspec', 'default', 'main', 'local', ...Array.from({ length: 252 }, (_, i) => String(i + 1))];
const routingTable = (o: { omit?: boolean } = {}) => str({ doc: 'routing table (name or number)', enum: routingTables, ...o });

const commonLink = {
  up: bool({ doc: 'bring the link up' }),
  mtu: uint32({ doc: 'MTU' }),
  addresses: list(obj({ address: str({ doc: 'address with prefix length', omit: false, format: 'cidr' }), routePriority: uint32({ doc: 'priority of the prefix route', ptr: true }) }), { doc: 'static addresses' }),
  routes: list(
    obj({
      destination: str({ doc: 'destination prefix', format: 'cidr' }),
      gateway: str({ doc: 'gateway address', format: 'ip' }),
      source: str({ doc: 'preferred source address', format: 'ip' }),
      metric: uint32({ doc: 'route metric' }),
      mtu: uint32({ doc: 'route MTU' }),
      table: routingTable(),
    }),
    { doc: 'static routes' },
  ),
  multicast: bool({ doc: 'enable multicast' }),
};

const hardwareAddr = str({ doc: 'hardware (MAC) address', pattern: '^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2})*$' });

const cel = (doc: string) => str({ doc: `${doc} (CEL expression)` });

const encryptionSpec = obj(
  {
    provider: str({ doc: 'encryption provider', enum: ['luks2'], omit: false }),
    keys: list(
      obj({
        slot: int({ doc: 'key slot', omit: false }),
        static: obj({ passphrase: str({ doc: 'passphrase' }) }, { doc: 'a static passphrase' }),
        nodeID: obj({}, { doc: 'a key derived from the node UUID' }),
        kms: obj({ endpoint: str({ doc: 'KMS endpoint', omit: false }) }, { doc: 'a key sealed by a KMS' }),
        tpm: obj({ options: obj({ pcrs: list(int(), { doc: 'PCRs to bind to' }) }, { doc: 'TPM options' }), checkSecurebootStatusOnEnroll: bool({ doc: 'require SecureBoot when enrolling' }) }, { doc: 'a key sealed by the TPM' }),
        lockToState: bool({ doc: 'lock the key to the STATE partition' }),
      }),
      { doc: 'keys', omit: false },
    ),
    cipher: str({ doc: 'cipher' }),
    keySize: uint32({ doc: 'key size (bits)' }),
    blockSize: int({ min: 0, doc: 'block size (bytes)' }),
    options: strList({ doc: 'extra cryptsetup options' }),
  },
  { doc: 'encryption', ptr: false },
);

const provisioning = obj(
  {
    diskSelector: obj({ match: cel('disk to provision on') }, { doc: 'which disk', ptr: false }),
    grow: bool({ doc: 'grow the volume to fill the disk' }),
    minSize: size({ doc: 'minimum size' }),
    maxSize: size({ doc: 'maximum size (bytes or %)' }),
  },
  { doc: 'how the volume is provisioned', ptr: false },
);

const volumeName = name('volume name');

export const kinds: KindSpec[] = [
  // block
  {
    kind: 'VolumeConfig',
    area: 'block',
    named: true,
    doc: 'settings of a system volume (STATE, EPHEMERAL, IMAGECACHE)',
    schema: obj({ name: volumeName, provisioning, encryption: encryptionSpec, mount: obj({ secure: bool({ doc: 'mount with nosuid,nodev' }) }, { doc: 'mount options', ptr: false }) }),
  },
  {
    kind: 'UserVolumeConfig',
    area: 'block',
    named: true,
    doc: 'a user volume mounted under /var/mnt',
    conflictsWith: ['ExistingVolumeConfig'],
    schema: obj({
      name: volumeName,
      volumeType: str({ doc: 'partition, disk or directory', enum: ['partition', 'disk', 'directory', 'tmpfs', 'symlink', 'overlay', 'external'], ptr: true }),
      provisioning,
      filesystem: obj({ type: str({ doc: 'filesystem type', enum: ['none', 'xfs', 'ext4', 'vfat', 'iso9660', 'swap', 'virtiofs', ''] }), projectQuotaSupport: bool({ doc: 'enable project quotas' }) }, { doc: 'filesystem', ptr: false }),
      encryption: encryptionSpec,
      mount: obj({ disableAccessTime: bool({ doc: 'mount with noatime' }), secure: bool({ doc: 'mount with nosuid,nodev' }) }, { doc: 'mount options', ptr: false }),
    }),
  },
  { kind: 'RawVolumeConfig', area: 'block', named: true, doc: 'a raw (unformatted) volume', schema: obj({ name: volumeName, provisioning, encryption: encryptionSpec }) },
  {
    kind: 'ExistingVolumeConfig',
    area: 'block',
    named: true,
    doc: 'an existing volume mounted under /var/mnt',
    conflictsWith: ['UserVolumeConfig'],
    schema: obj({
      name: volumeName,
      discovery: obj({ volumeSelector: obj({ match: cel('volume to use') }, { doc: 'volume selector', ptr: false }) }, { doc: 'how the volume is found', ptr: false }),
      mount: obj({ readOnly: bool({ doc: 'mount read-only' }), disableAccessTime: bool({ doc: 'mount with noatime' }), secure: bool({ doc: 'mount with nosuid,nodev' }) }, { doc: 'mount options', ptr: false }),
    }),
  },
  {
    kind: 'ExternalVolumeConfig',
    area: 'block',
    named: true,
    doc: 'an external (virtiofs) volume',
    schema: obj({
      name: volumeName,
      filesystemType: str({ doc: 'filesystem type (virtiofs)', omit: false }),
      mount: obj({ readOnly: bool({ doc: 'mount read-only' }), disableAccessTime: bool({ doc: 'mount with noatime' }), secure: bool({ doc: 'mount with nosuid,nodev' }), virtiofs: obj({ tag: str({ doc: 'virtiofs tag', omit: false }) }, { doc: 'virtiofs settings' }) }, { doc: 'mount options', ptr: false }),
    }),
  },
  { kind: 'SwapVolumeConfig', area: 'block', named: true, doc: 'a swap volume', schema: obj({ name: volumeName, provisioning, encryption: encryptionSpec }) },
  { kind: 'ZswapConfig', area: 'block', named: false, doc: 'zswap compressed swap cache', schema: obj({ maxPoolPercent: int({ doc: 'maximum pool size (% of RAM)', ptr: true }), shrinkerEnabled: bool({ doc: 'enable the shrinker' }) }) },
  // cri
  {
    kind: 'RegistryMirrorConfig',
    area: 'cri',
    named: true,
    doc: 'mirrors of an image registry',
    schema: obj({ name: name('registry host'), endpoints: list(obj({ url: str({ doc: 'mirror URL', omit: false, format: 'url' }), overridePath: bool({ doc: 'use the URL path as is' }) }), { doc: 'mirror endpoints' }), skipFallback: bool({ doc: 'do not fall back to the registry itself' }) }),
  },
  {
    kind: 'RegistryAuthConfig',
    area: 'cri',
    named: true,
    doc: 'credentials for an image registry',
    schema: obj({ name: name('registry host'), username: str({ doc: 'user name' }), password: str({ doc: 'password' }), auth: str({ doc: 'base64 of user:password' }), identityToken: str({ doc: 'identity token' }) }),
  },
  {
    kind: 'RegistryTLSConfig',
    area: 'cri',
    named: true,
    doc: 'TLS settings for an image registry',
    schema: obj({ name: name('registry host'), clientIdentity: obj({ cert: str({ doc: 'client certificate (PEM)' }), key: str({ doc: 'client key (PEM)' }) }, { doc: 'client certificate and key' }), ca: str({ doc: 'CA certificates (PEM)' }), insecureSkipVerify: bool({ doc: 'skip verification of the registry certificate' }) }),
  },
  // hardware
  { kind: 'PCIDriverRebindConfig', area: 'hardware', named: true, doc: 'bind a PCI device to another driver', schema: obj({ name: name('PCI ID of the device'), targetDriver: str({ doc: 'driver to bind to', omit: false }) }) },
  // network
  { kind: 'BlackholeRouteConfig', area: 'network', named: true, doc: 'a blackhole route', schema: obj({ name: name('destination prefix'), metric: uint32({ doc: 'route metric' }) }) },
  {
    kind: 'BondConfig',
    area: 'network',
    named: true,
    doc: 'a bond link',
    schema: obj({
      name: name('link name'),
      hardwareAddr,
      links: strList({ doc: 'member links' }),
      bondMode: str({ doc: 'bonding mode', enum: ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'], ptr: true }),
      miimon: uint32({ doc: 'MII monitoring interval (ms)', ptr: true }),
      updelay: uint32({ doc: 'up delay (ms)', ptr: true }),
      downdelay: uint32({ doc: 'down delay (ms)', ptr: true }),
      useCarrier: bool({ doc: 'use carrier state' }),
      xmitHashPolicy: str({ doc: 'transmit hash policy', enum: ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4'], ptr: true }),
      arpInterval: uint32({ doc: 'ARP interval (ms)', ptr: true }),
      arpIpTargets: list(str({ format: 'ip' }), { doc: 'ARP targets' }),
      nsIp6Targets: list(str({ format: 'ip' }), { doc: 'neighbour solicitation targets' }),
      arpValidate: str({ doc: 'ARP validation', enum: ['none', 'active', 'backup', 'all', 'filter', 'filter-active', 'filter-backup'], ptr: true }),
      arpAllTargets: str({ doc: 'ARP targets that must be up', enum: ['any', 'all'], ptr: true }),
      lacpRate: str({ doc: 'LACP rate', enum: ['slow', 'fast'], ptr: true }),
      failOverMac: str({ doc: 'MAC policy on failover', enum: ['none', 'active', 'follow'], ptr: true }),
      adSelect: str({ doc: 'aggregation selection', enum: ['stable', 'bandwidth', 'count'], ptr: true }),
      adActorSysPrio: uint16({ doc: 'actor system priority', ptr: true }),
      adUserPortKey: uint16({ doc: 'user port key', ptr: true }),
      adLACPActive: str({ doc: 'LACP active', enum: ['off', 'on'], ptr: true }),
      primaryReselect: str({ doc: 'primary reselection', enum: ['always', 'better', 'failure'], ptr: true }),
      resendIGMP: uint32({ doc: 'IGMP resends', ptr: true }),
      minLinks: uint32({ doc: 'minimum links', ptr: true }),
      lpInterval: uint32({ doc: 'learning packet interval', ptr: true }),
      packetsPerSlave: uint32({ doc: 'packets per link', ptr: true }),
      numPeerNotif: uint8({ doc: 'peer notifications', ptr: true }),
      tlbLogicalLb: uint8({ doc: 'tlb dynamic load balancing', ptr: true }),
      allSlavesActive: uint8({ doc: 'deliver duplicates on inactive links', ptr: true }),
      peerNotifDelay: uint32({ doc: 'peer notification delay', ptr: true }),
      missedMax: uint8({ doc: 'missed ARP monitor checks', ptr: true }),
      ...commonLink,
    }),
  },
  {
    kind: 'BridgeConfig',
    area: 'network',
    named: true,
    doc: 'a bridge link',
    schema: obj({ name: name('link name'), hardwareAddr, links: strList({ doc: 'member links' }), stp: obj({ enabled: bool({ doc: 'enable STP' }) }, { doc: 'spanning tree', ptr: false }), vlan: obj({ filtering: bool({ doc: 'enable VLAN filtering' }) }, { doc: 'VLAN settings', ptr: false }), ...commonLink }),
  },
  { kind: 'NetworkDefaultActionConfig', area: 'network', named: false, doc: 'default action of the ingress firewall', schema: obj({ ingress: str({ doc: 'accept or block', enum: ['accept', 'block'], omit: false }) }) },
  {
    kind: 'DHCPv4Config',
    area: 'network',
    named: true,
    doc: 'DHCPv4 on a link',
    schema: obj({ name: name('link name'), routeMetric: uint32({ doc: 'metric of DHCP routes' }), ignoreHostname: bool({ doc: 'ignore the hostname from DHCP' }), clientIdentifier: str({ doc: 'none, mac or duid', enum: ['none', 'mac', 'duid'], ptr: true }), duidRaw: hardwareAddr }),
  },
  {
    kind: 'DHCPv6Config',
    area: 'network',
    named: true,
    doc: 'DHCPv6 on a link',
    schema: obj({ name: name('link name'), routeMetric: uint32({ doc: 'metric of DHCP routes' }), ignoreHostname: bool({ doc: 'ignore the hostname from DHCP' }), clientIdentifier: str({ doc: 'none, mac or duid', enum: ['none', 'mac', 'duid'], ptr: true }), duidRaw: hardwareAddr }),
  },
  { kind: 'DummyLinkConfig', area: 'network', named: true, doc: 'a dummy link', schema: obj({ name: name('link name'), hardwareAddr, ...commonLink }) },
  {
    kind: 'EthernetConfig',
    area: 'network',
    named: true,
    doc: 'ethtool settings of a link',
    schema: obj({
      name: name('link name'),
      features: map(bool({ ptr: false }), { doc: 'offload features on or off' }),
      rings: obj({ rx: uint32({ ptr: true }), tx: uint32({ ptr: true }), 'rx-mini': uint32({ ptr: true }), 'rx-jumbo': uint32({ ptr: true }), 'rx-buf-len': uint32({ ptr: true }), 'cqe-size': uint32({ ptr: true }), 'tx-push': bool(), 'rx-push': bool(), 'tx-push-buf-len': uint32({ ptr: true }), 'tcp-data-split': bool() }, { doc: 'ring sizes' }),
      channels: obj({ rx: uint32({ ptr: true }), tx: uint32({ ptr: true }), other: uint32({ ptr: true }), combined: uint32({ ptr: true }) }, { doc: 'channel counts' }),
      wakeOnLan: list(str({ enum: ['phy', 'unicast', 'multicast', 'broadcast', 'magic', 'magicsecure', 'filter'] }), { doc: 'wake-on-LAN modes' }),
    }),
  },
  { kind: 'HCloudVIPConfig', area: 'network', named: true, doc: 'a Hetzner Cloud virtual IP', conflictsWith: ['Layer2VIPConfig'], schema: obj({ name: name('the IP address'), link: str({ doc: 'link to announce it on', omit: false }), apiToken: str({ doc: 'Hetzner Cloud API token', omit: false }) }) },
  {
    kind: 'HostnameConfig',
    area: 'network',
    named: false,
    doc: 'the hostname of the machine',
    schema: obj({ auto: str({ doc: 'automatic hostname: stable or off', enum: ['off', 'stable', 'talos-addr'], ptr: true }), hostname: str({ doc: 'static hostname' }) }),
  },
  {
    kind: 'KubeSpanConfig',
    area: 'network',
    named: false,
    doc: 'KubeSpan (WireGuard mesh between nodes)',
    schema: obj({
      enabled: bool({ doc: 'enable KubeSpan' }),
      advertiseKubernetesNetworks: bool({ doc: 'route pod networks over KubeSpan' }),
      allowDownPeerBypass: bool({ doc: 'route around peers that are down' }),
      harvestExtraEndpoints: bool({ doc: 'learn endpoints from other peers' }),
      mtu: uint32({ doc: 'link MTU', ptr: true }),
      filters: obj({ endpoints: strList({ doc: 'endpoint filters' }), excludeAdvertisedNetworks: list(str({ format: 'cidr' }), { doc: 'networks not advertised' }) }, { doc: 'filters' }),
    }),
  },
  { kind: 'KubeSpanEndpointsConfig', area: 'network', named: false, doc: 'extra endpoints announced to KubeSpan peers', schema: obj({ extraAnnouncedEndpoints: list(str({ format: 'hostPort' }), { doc: 'address:port endpoints', omit: false }) }) },
  { kind: 'Layer2VIPConfig', area: 'network', named: true, doc: 'a layer 2 (ARP/NDP) virtual IP', conflictsWith: ['HCloudVIPConfig'], schema: obj({ name: name('the IP address'), link: str({ doc: 'link to announce it on', omit: false }) }) },
  { kind: 'LinkConfig', area: 'network', named: true, doc: 'settings of a physical link', schema: obj({ name: name('link name'), ...commonLink }) },
  { kind: 'LinkAliasConfig', area: 'network', named: true, doc: 'an alias name for a link found by a selector', schema: obj({ name: name('alias'), selector: obj({ match: cel('link to alias') }, { doc: 'link selector', ptr: false }) }) },
  {
    kind: 'ResolverConfig',
    area: 'network',
    named: false,
    doc: 'DNS resolvers and search domains',
    schema: obj({ nameservers: list(obj({ address: str({ doc: 'resolver address', omit: false, format: 'ip' }) }), { doc: 'DNS servers' }), searchDomains: obj({ domains: strList({ doc: 'search domains' }), disableDefault: bool({ doc: 'do not add the domain of the hostname' }) }, { doc: 'search domains', ptr: false }) }),
  },
  {
    kind: 'RoutingRuleConfig',
    area: 'network',
    named: true,
    doc: 'a policy routing rule (the name is its priority)',
    schema: obj({
      name: name('rule priority'),
      src: str({ doc: 'source prefix', format: 'cidr' }),
      dst: str({ doc: 'destination prefix', format: 'cidr' }),
      table: routingTable({ omit: false }),
      action: str({ doc: 'rule action', enum: ['unspec', 'unicast', 'blackhole', 'unreachable', 'prohibit'] }),
      iifName: str({ doc: 'input interface' }),
      oifName: str({ doc: 'output interface' }),
      fwMark: uint32({ doc: 'firewall mark' }),
      fwMask: uint32({ doc: 'firewall mark mask' }),
    }),
  },
  {
    kind: 'NetworkRuleConfig',
    area: 'network',
    named: true,
    doc: 'an ingress firewall rule',
    schema: obj({
      name: name('rule name'),
      portSelector: obj({ ports: list(size({ doc: 'port or lo-hi range' }), { doc: 'ports', omit: false, merge: 'replace' }), protocol: str({ doc: 'tcp, udp, icmp or icmpv6', enum: ['tcp', 'udp', 'icmp', 'icmpv6'], omit: false }) }, { doc: 'affected ports', ptr: false, omit: false }),
      ingress: list(obj({ subnet: str({ doc: 'allowed subnet', omit: false, format: 'cidr' }), except: str({ doc: 'excluded subnet', format: 'cidr' }) }), { doc: 'allowed sources', omit: false, merge: 'replace' }),
    }),
  },
  { kind: 'StaticHostConfig', area: 'network', named: true, doc: 'an /etc/hosts entry (the name is the address)', schema: obj({ name: name('IP address'), hostnames: strList({ doc: 'host names', omit: false }) }) },
  {
    kind: 'TCPProbeConfig',
    area: 'network',
    named: true,
    doc: 'a TCP connectivity probe',
    schema: obj({ name: name('probe name'), interval: dur({ doc: 'probe interval' }), failureThreshold: int({ doc: 'failures before the probe is down' }), endpoint: str({ doc: 'host:port to connect to', omit: false }), timeout: dur({ doc: 'connection timeout' }) }),
  },
  {
    kind: 'TimeSyncConfig',
    area: 'network',
    named: false,
    doc: 'time synchronization',
    schema: obj({ enabled: bool({ doc: 'enable time sync' }), bootTimeout: dur({ doc: 'how long boot waits for time sync' }), ntp: obj({ servers: strList({ doc: 'NTP servers' }) }, { doc: 'NTP' }), ptp: obj({ devices: strList({ doc: 'PTP devices' }) }, { doc: 'PTP' }) }),
  },
  {
    kind: 'VLANConfig',
    area: 'network',
    named: true,
    doc: 'a VLAN link',
    schema: obj({ name: name('link name'), vlanID: uint16({ doc: 'VLAN ID' }), vlanMode: str({ doc: '802.1q or 802.1ad', enum: ['802.1q', '802.1ad'], ptr: true }), parent: str({ doc: 'parent link' }), ...commonLink }),
  },
  { kind: 'VRFConfig', area: 'network', named: true, doc: 'a VRF link', schema: obj({ name: name('link name'), hardwareAddr, links: strList({ doc: 'member links' }), table: routingTable({ omit: false }), ...commonLink }) },
  {
    kind: 'WireguardConfig',
    area: 'network',
    named: true,
    doc: 'a WireGuard link',
    schema: obj({
      name: name('link name'),
      privateKey: str({ doc: 'private key (base64)' }),
      listenPort: int({ doc: 'listening port' }),
      firewallMark: int({ doc: 'firewall mark' }),
      peers: list(obj({ publicKey: str({ doc: 'public key' }), presharedKey: str({ doc: 'preshared key' }), endpoint: str({ doc: 'host:port', format: 'hostPort' }), persistentKeepaliveInterval: dur({ doc: 'keepalive interval' }), allowedIPs: list(str({ format: 'cidr' }), { doc: 'routed networks' }) }), { doc: 'peers' }),
      ...commonLink,
    }),
  },
  // runtime
  { kind: 'EnvironmentConfig', area: 'runtime', named: false, doc: 'environment variables of Talos services', schema: obj({ variables: strMap({ doc: 'variables', omit: false }) }) },
  { kind: 'EventSinkConfig', area: 'runtime', named: false, doc: 'send machine events to a gRPC endpoint', schema: obj({ endpoint: str({ doc: 'host:port of the sink', omit: false }) }) },
  { kind: 'KmsgLogConfig', area: 'runtime', named: true, doc: 'send kernel logs to a TCP/UDP endpoint', schema: obj({ name: name('destination name'), url: str({ doc: 'tcp:// or udp:// URL', omit: false, format: 'url' }) }) },
  {
    kind: 'OOMConfig',
    area: 'runtime',
    named: false,
    doc: 'the userspace OOM handler',
    schema: obj({ triggerExpression: cel('when to act'), cgroupRankingExpression: cel('how cgroups are ranked'), strictCgroupClassOrdering: bool({ doc: 'strict class ordering' }), sampleInterval: dur({ doc: 'sampling interval' }) }),
  },
  { kind: 'WatchdogTimerConfig', area: 'runtime', named: false, doc: 'a hardware watchdog', schema: obj({ device: str({ doc: 'watchdog device', omit: false }), timeout: dur({ doc: 'watchdog timeout' }) }) },
  {
    kind: 'ExtensionServiceConfig',
    area: 'extensions',
    named: true,
    doc: 'configuration of an extension service',
    schema: obj({
      name: name('extension service name'),
      configFiles: list(obj({ content: str({ doc: 'file contents', omit: false }), mountPath: str({ doc: 'where the file is mounted', omit: false }) }), { doc: 'files given to the service', merge: { by: ['mountPath'] } }),
      environment: strList({ doc: 'environment variables (NAME=value)' }),
    }),
  },
  // security
  {
    kind: 'ImageVerificationConfig',
    area: 'security',
    named: false,
    doc: 'signature verification of container images',
    schema: obj({
      rules: list(
        obj({
          image: str({ doc: 'image pattern' }),
          skip: bool({ doc: 'do not verify' }),
          deny: bool({ doc: 'refuse the image' }),
          keyless: obj({ issuer: str({ doc: 'OIDC issuer' }), subject: str({ doc: 'certificate subject' }), subjectRegex: str({ doc: 'certificate subject regex' }) }, { doc: 'keyless verification' }),
          publicKey: obj({ certificate: str({ doc: 'public key certificate (PEM)' }) }, { doc: 'public key verification' }),
        }),
        { doc: 'rules, first match wins', merge: { by: ['image'], replaceItem: true } },
      ),
    }),
  },
  { kind: 'TrustedRootsConfig', area: 'security', named: true, doc: 'extra trusted CA certificates', schema: obj({ name: name('bundle name'), certificates: str({ doc: 'PEM certificates', omit: false }) }) },
  // siderolink
  { kind: 'SideroLinkConfig', area: 'siderolink', named: false, doc: 'SideroLink connection to Omni', schema: obj({ apiUrl: str({ doc: 'SideroLink API URL', omit: false, format: 'url' }), uniqueToken: str({ doc: 'unique node token' }) }) },
];

export const kindByName: ReadonlyMap<string, KindSpec> = new Map(kinds.map((k) => [k.kind, k]));

/** Link kinds conflict with each other when they name the same link. */
const linkKinds = ['LinkConfig', 'BondConfig', 'BridgeConfig', 'DummyLinkConfig', 'VLANConfig', 'VRFConfig', 'WireguardConfig'];
for (const k of linkKinds) kindByName.get(k)!.conflictsWith = linkKinds.filter((o) => o !== k);

/** The schema of a whole document of a kind: apiVersion, kind, then the kind's fields. */
export function documentSchema(spec: KindSpec): ObjSchema {
  const fields: Record<string, Schema> = { apiVersion: str({ doc: 'version of the document schema' }), kind: str({ doc: 'kind of the document', omit: false }), ...spec.schema.fields };
  return obj(fields, { doc: spec.doc });
}

