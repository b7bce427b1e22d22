/**
 * The v1alpha1 machine config document (`version: v1alpha1`, no apiVersion/kind): every `machine.*` and
 * `cluster.*` field of the v1.13 schema, including those kept only for compatibility. Field order is Talos's, so
 * canonical encoding writes keys in the order talosctl does.
 */
import { any, args, bool, dur, int, list, map, obj, size, str, strList, strMap, uint16, uint32, uint8 } from './dsl.js';


/** A certificate and key, each base64 of PEM; both keys are always written. */
export const pemCertAndKey = (doc: string) =>
  obj(
    {
      crt: str({ doc: 'base64 of the PEM certificate', omit: false }),
      key: str({ doc: 'base64 of the PEM private key', omit: false }),
    },
    { doc },
  );

const pemCert = obj({ crt: str({ doc: 'base64 of the PEM certificate', omit: false }) });
const pemKey = (doc: string) => obj({ key: str({ doc: 'base64 of the PEM private key', omit: false }) }, { doc });

const linuxIDMapping = obj({
  containerID: uint32({ doc: 'first ID in the container', omit: false }),
  hostID: uint32({ doc: 'first ID on the host', omit: false }),
  size: uint32({ doc: 'number of IDs mapped', omit: false }),
});

const extraMount = obj({
  destination: str({ doc: 'where the mount appears in the container', omit: false }),
  type: str({ doc: 'mount type (bind)' }),
  source: str({ doc: 'host path or device to mount' }),
  options: strList({ doc: 'mount options' }),
  uidMappings: list(linuxIDMapping, { doc: 'user ID mappings for an idmapped mount' }),
  gidMappings: list(linuxIDMapping, { doc: 'group ID mappings for an idmapped mount' }),
});

const kubelet = obj(
  {
    image: str({ doc: 'kubelet image to run', examples: [{ value: 'ghcr.io/siderolabs/kubelet:v1.36.3', doc: 'an alternative kubelet image' }] }),
    clusterDNS: strList({ doc: 'cluster DNS server addresses handed to pods', examples: [{ value: ['10.96.0.10', '169.254.2.53'], doc: 'other cluster DNS servers' }] }),
    extraArgs: args({ doc: 'extra flags for the kubelet', examples: [{ value: { feature_gates: 'ServerSideApply=true' }, doc: 'an extra kubelet flag' }] }),
    extraMounts: list(extraMount, {
      doc: 'extra mounts for the kubelet container',
      examples: [{ value: [{ destination: '/var/lib/example', type: 'bind', source: '/var/lib/example', options: ['bind', 'rshared', 'rw'] }], doc: 'a host directory mounted into the kubelet' }],
    }),
    extraConfig: any({ object: true, doc: 'kubelet configuration fields merged over the generated KubeletConfiguration' }),
    credentialProviderConfig: any({ object: true, doc: 'kubelet image credential provider configuration' }),
    defaultRuntimeSeccompProfileEnabled: bool({ doc: 'run pods with the runtime default seccomp profile' }),
    registerWithFQDN: bool({ doc: 'register the node under its FQDN rather than its hostname' }),
    nodeIP: obj({ validSubnets: strList({ doc: 'subnets (or !excluded) the kubelet picks its node IP from' }) }, { doc: 'how the kubelet picks its node IP' }),
    skipNodeRegistration: bool({ doc: 'run the kubelet in standalone mode without registering the node' }),
    disableManifestsDirectory: bool({ doc: 'do not read static pod manifests from /etc/kubernetes/manifests' }),
  },
  { doc: 'kubelet settings' },
);

const route = obj({
  network: str({ doc: 'destination network (CIDR)', omit: false }),
  gateway: str({ doc: 'gateway address', omit: false }),
  source: str({ doc: 'source address preferred for the route' }),
  metric: uint32({ doc: 'route metric' }),
  mtu: uint32({ doc: 'route MTU' }),
});

const dhcpOptions = obj({
  routeMetric: uint32({ doc: 'metric of the routes DHCP installs', omit: false }),
  ipv4: bool({ doc: 'use DHCPv4' }),
  ipv6: bool({ doc: 'use DHCPv6' }),
  duidv6: str({ doc: 'DHCPv6 DUID (hex)' }),
});

const vip = obj({
  ip: str({ doc: 'the shared IP address' }),
  equinixMetal: obj({ apiToken: str({ doc: 'Equinix Metal API token', omit: false }) }, { doc: 'announce the VIP through the Equinix Metal API' }),
  hcloud: obj({ apiToken: str({ doc: 'Hetzner Cloud API token', omit: false }) }, { doc: 'announce the VIP through the Hetzner Cloud API' }),
});

const deviceSelector = obj({
  busPath: str({ doc: 'PCI/USB bus path (glob)' }),
  hardwareAddr: str({ doc: 'MAC address (glob)' }),
  permanentAddr: str({ doc: 'permanent MAC address (glob)' }),
  pciID: str({ doc: 'PCI vendor:device ID' }),
  driver: str({ doc: 'kernel driver name' }),
  physical: bool({ doc: 'physical links only' }),
});

const bond = obj({
  interfaces: strList({ doc: 'links that make up the bond', omit: false }),
  deviceSelectors: list(deviceSelector, { doc: 'select the bond members by hardware properties' }),
  arpIPTarget: strList({ doc: 'ARP monitoring targets' }),
  mode: str({ doc: 'bonding mode', omit: false }),
  xmitHashPolicy: str({ doc: 'transmit hash policy' }),
  lacpRate: str({ doc: 'LACP rate (slow or fast)' }),
  adActorSystem: str({ doc: '802.3ad actor system MAC' }),
  arpValidate: str({ doc: 'ARP validation mode' }),
  arpAllTargets: str({ doc: 'ARP targets that must be up (any or all)' }),
  primary: str({ doc: 'primary link' }),
  primaryReselect: str({ doc: 'when to reselect the primary link' }),
  failOverMac: str({ doc: 'MAC address policy on failover' }),
  adSelect: str({ doc: 'aggregation selection logic' }),
  miimon: uint32({ doc: 'MII link monitoring interval (ms)' }),
  updelay: uint32({ doc: 'delay before enabling a recovered link (ms)' }),
  downdelay: uint32({ doc: 'delay before disabling a failed link (ms)' }),
  arpInterval: uint32({ doc: 'ARP monitoring interval (ms)' }),
  resendIgmp: uint32({ doc: 'IGMP reports sent after failover' }),
  minLinks: uint32({ doc: 'minimum links up for the bond to be up' }),
  lpInterval: uint32({ doc: 'learning packet interval (s)' }),
  packetsPerSlave: uint32({ doc: 'packets sent per link in round-robin mode' }),
  numPeerNotif: uint8({ doc: 'peer notifications after failover' }),
  tlbDynamicLb: uint8({ doc: 'dynamic shuffling of flows in tlb mode' }),
  allSlavesActive: uint8({ doc: 'deliver duplicate frames on inactive links' }),
  useCarrier: bool({ doc: 'use carrier state for link monitoring' }),
  adActorSysPrio: uint16({ doc: '802.3ad system priority' }),
  adUserPortKey: uint16({ doc: '802.3ad user port key' }),
  peerNotifyDelay: uint32({ doc: 'delay between peer notifications (ms)' }),
});

const bridge = obj({
  interfaces: strList({ doc: 'links that make up the bridge', omit: false }),
  stp: obj({ enabled: bool({ doc: 'enable the spanning tree protocol' }) }, { doc: 'spanning tree settings' }),
  vlan: obj({ vlanFiltering: bool({ doc: 'enable VLAN filtering' }) }, { doc: 'VLAN settings' }),
});

const vlan = obj({
  addresses: strList({ doc: 'static addresses (CIDR)' }),
  cidr: str({ doc: 'static address (CIDR); deprecated, use addresses', deprecated: 'use addresses' }),
  routes: list(route, { doc: 'routes over the VLAN', omit: false }),
  dhcp: bool({ doc: 'use DHCP' }),
  vlanId: uint16({ doc: 'VLAN ID', omit: false }),
  mtu: uint32({ doc: 'MTU' }),
  vip: vip,
  dhcpOptions: dhcpOptions,
});

const wireguardPeer = obj({
  publicKey: str({ doc: 'peer public key (base64)' }),
  endpoint: str({ doc: 'peer endpoint (host:port)' }),
  persistentKeepaliveInterval: dur({ doc: 'keepalive interval' }),
  allowedIPs: strList({ doc: 'networks routed to the peer' }),
});

const device = obj({
  interface: str({ doc: 'interface name' }),
  deviceSelector: deviceSelector,
  addresses: strList({ doc: 'static addresses (CIDR)' }),
  cidr: str({ doc: 'static address (CIDR); deprecated, use addresses', deprecated: 'use addresses' }),
  routes: list(route, { doc: 'routes over the interface' }),
  bond: bond,
  bridge: bridge,
  bridgePort: obj({ master: str({ doc: 'the bridge this link belongs to' }) }, { doc: 'bridge membership' }),
  vlans: list(vlan, { doc: 'VLANs on the interface', merge: { by: ['vlanId'] } }),
  mtu: int({ doc: 'MTU' }),
  dhcp: bool({ doc: 'use DHCP' }),
  ignore: bool({ doc: 'leave the interface alone' }),
  dummy: bool({ doc: 'create a dummy interface' }),
  dhcpOptions: dhcpOptions,
  wireguard: obj(
    {
      privateKey: str({ doc: 'private key (base64)' }),
      listenPort: int({ doc: 'listening port' }),
      firewallMark: int({ doc: 'firewall mark of outgoing packets' }),
      peers: list(wireguardPeer, { doc: 'peers' }),
    },
    { doc: 'WireGuard settings' },
  ),
  vip: vip,
});

const diskSelector = obj(
  {
    size: str({ doc: 'disk size, optionally with a comparison (>= 1TB)' }),
    name: str({ doc: 'disk name (glob)' }),
    model: str({ doc: 'disk model (glob)' }),
    serial: str({ doc: 'disk serial number (glob)' }),
    modalias: str({ doc: 'disk modalias (glob)' }),
    uuid: str({ doc: 'disk UUID (glob)' }),
    wwid: str({ doc: 'disk WWID (glob)' }),
    type: str({ doc: 'disk type', enum: ['ssd', 'hdd', 'nvme', 'sd', 'cd', ''] }),
    busPath: str({ doc: 'disk bus path (glob)' }),
  },
  { doc: 'find the install disk by its attributes (takes priority over disk)', examples: [{ value: { size: '4GB', model: 'WDC*', busPath: '/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0' } }] },
);

const encryptionKey = obj({
  static: obj({ passphrase: str({ doc: 'the passphrase' }) }, { doc: 'a static passphrase' }),
  nodeID: obj({}, { doc: 'a key derived from the node UUID' }),
  kms: obj({ endpoint: str({ doc: 'KMS endpoint (gRPC)', omit: false }) }, { doc: 'a key sealed by a KMS' }),
  slot: int({ doc: 'key slot', omit: false }),
  tpm: obj({ checkSecurebootStatusOnEnroll: bool({ doc: 'require SecureBoot when enrolling' }) }, { doc: 'a key sealed by the TPM' }),
});

const encryption = obj({
  provider: str({ doc: 'encryption provider (luks2)', omit: false }),
  keys: list(encryptionKey, { doc: 'keys', omit: false }),
  cipher: str({ doc: 'cipher' }),
  keySize: uint32({ doc: 'key size (bits)' }),
  blockSize: int({ min: 0, doc: 'block size (bytes)' }),
  options: strList({ doc: 'extra cryptsetup options' }),
});

const registryAuth = obj({
  username: str({ doc: 'user name' }),
  password: str({ doc: 'password' }),
  auth: str({ doc: 'base64 of user:password' }),
  identityToken: str({ doc: 'identity token' }),
});

const registryTLS = obj({
  clientIdentity: pemCertAndKey('client certificate and key (base64 PEM)'),
  ca: str({ doc: 'CA certificate (base64 PEM)', format: 'base64' }),
  insecureSkipVerify: bool({ doc: 'skip verification of the registry certificate' }),
});

const features = obj(
  {
    rbac: bool({ doc: 'enable role-based access to the Talos API' }),
    stableHostname: bool({ doc: 'derive a stable default hostname from the machine identity' }),
    kubernetesTalosAPIAccess: obj(
      {
        enabled: bool({ doc: 'let pods reach the Talos API' }),
        allowedRoles: strList({ doc: 'Talos roles pods may be given' }),
        allowedKubernetesNamespaces: strList({ doc: 'namespaces whose pods may get access' }),
      },
      { doc: 'Talos API access from Kubernetes pods' },
    ),
    apidCheckExtKeyUsage: bool({ doc: 'require the clientAuth extended key usage on Talos API client certificates' }),
    diskQuotaSupport: bool({ doc: 'enable XFS project quotas on /var for the kubelet' }),
    kubePrism: obj({ enabled: bool({ doc: 'enable the KubePrism load balancer' }), port: int({ doc: 'KubePrism port' }) }, { doc: 'local load balancer for the Kubernetes API' }),
    hostDNS: obj(
      {
        enabled: bool({ doc: 'enable the host DNS caching resolver' }),
        forwardKubeDNSToHost: bool({ doc: 'forward kube-dns queries to the host resolver' }),
        resolveMemberNames: bool({ doc: 'resolve cluster member hostnames' }),
      },
      { doc: 'host DNS caching resolver' },
    ),
    imageCache: obj({ localEnabled: bool({ doc: 'serve images from the local image cache' }) }, { doc: 'image cache' }),
    nodeAddressSortAlgorithm: str({ doc: 'how node addresses are sorted (v1 or v2)' }),
  },
  { doc: 'optional features of the machine' },
);

const machineFile = obj({
  content: str({ doc: 'file contents', omit: false }),
  permissions: int({ doc: 'file mode (octal)', omit: false }),
  path: str({ doc: 'file path', omit: false }),
  op: str({ doc: 'create, append or overwrite', omit: false }),
});

export const machineSchema = obj(
  {
    type: str({ doc: 'the role of the machine in the cluster', omit: false }),
    token: str({ doc: 'token the machine uses to join the PKI of the cluster', omit: false }),
    ca: pemCertAndKey('the Talos API certificate authority'),
    acceptedCAs: list(pemCert, { doc: 'other CAs whose certificates the Talos API accepts' }),
    certSANs: strList({ doc: "extra subject alternative names for the machine's certificate", omit: false, examples: [{ value: ['10.0.0.10', '172.16.0.10', '192.168.0.10'], doc: 'extra SANs' }] }),
    controlPlane: obj(
      {
        controllerManager: obj({ disabled: bool({ doc: 'do not run kube-controller-manager here' }) }, { doc: 'kube-controller-manager on this node' }),
        scheduler: obj({ disabled: bool({ doc: 'do not run kube-scheduler here' }) }, { doc: 'kube-scheduler on this node' }),
      },
      { doc: 'control plane components on this node' },
    ),
    kubelet: kubelet,
    pods: list(any({ object: true }), { doc: 'static pods run by the kubelet' }),
    network: obj(
      {
        hostname: str({ doc: 'static hostname' }),
        interfaces: list(device, { doc: 'network interfaces', merge: { by: ['interface', 'deviceSelector'] } }),
        nameservers: strList({ doc: 'DNS servers' }),
        searchDomains: strList({ doc: 'DNS search domains' }),
        extraHostEntries: list(obj({ ip: str({ doc: 'IP address', omit: false }), aliases: strList({ doc: 'host names', omit: false }) }), { doc: 'extra /etc/hosts entries' }),
        kubespan: obj(
          {
            enabled: bool({ doc: 'enable KubeSpan' }),
            advertiseKubernetesNetworks: bool({ doc: 'route pod networks over KubeSpan' }),
            allowDownPeerBypass: bool({ doc: 'route around peers that are down' }),
            harvestExtraEndpoints: bool({ doc: 'learn peer endpoints from other peers' }),
            mtu: uint32({ doc: 'KubeSpan link MTU', ptr: true }),
            filters: obj(
              {
                endpoints: strList({ doc: 'endpoint filters (CIDR, ! to exclude)' }),
                excludeAdvertisedNetworks: strList({ doc: 'networks not advertised to peers' }),
              },
              { doc: 'KubeSpan filters' },
            ),
          },
          { doc: 'KubeSpan settings (deprecated: use the KubeSpanConfig document)' },
        ),
        disableSearchDomain: bool({ doc: 'do not add the domain of the hostname to the search list' }),
      },
      { doc: 'network settings (deprecated in favour of network documents, still honoured)' },
    ),
    disks: list(
      obj({
        device: str({ doc: 'disk device' }),
        partitions: list(obj({ size: size({ doc: 'partition size (bytes or 100 MB)' }), mountpoint: str({ doc: 'where to mount it' }) }), { doc: 'partitions' }),
      }),
      { doc: 'extra disks to partition, format and mount' },
    ),
    install: obj(
      {
        disk: str({ doc: 'the disk to install to', examples: [{ value: '/dev/nvme0' }] }),
        diskSelector: diskSelector,
        extraKernelArgs: strList({ doc: 'extra kernel arguments', deprecated: 'build the installer with the image factory' }),
        image: str({ doc: 'the installer image' }),
        extensions: list(obj({ image: str({ doc: 'system extension image', omit: false }) }), { doc: 'system extensions to install', deprecated: 'build the installer with the image factory' }),
        bootloader: bool({ doc: 'install a bootloader' }),
        wipe: bool({ doc: 'wipe the install disk first', omit: false }),
        legacyBIOSSupport: bool({ doc: 'mark the partition bootable for legacy BIOS' }),
        grubUseUKICmdline: bool({ doc: "use the kernel command line of the UKI with GRUB" }),
      },
      { doc: 'installation options' },
    ),
    files: list(machineFile, { doc: 'files written to the root filesystem', deprecated: 'use extensions or EtcFileConfig' }),
    env: strMap({ doc: 'environment variables of all Talos services', examples: [{ value: { GRPC_GO_LOG_VERBOSITY_LEVEL: '99', GRPC_GO_LOG_SEVERITY_LEVEL: 'info', https_proxy: 'http://SERVER:PORT/' }, doc: 'environment variables' }] }),
    time: obj(
      {
        disabled: bool({ doc: 'disable time synchronization' }),
        servers: strList({ doc: 'NTP servers' }),
        bootTimeout: dur({ doc: 'how long boot waits for time sync' }),
      },
      { doc: 'time synchronization (deprecated: use the TimeSyncConfig document)', examples: [{ value: { disabled: false, servers: ['time.cloudflare.com'], bootTimeout: '2m0s' } }] },
    ),
    sysctls: strMap({ doc: 'kernel parameters (sysctl)', examples: [{ value: { 'kernel.domainname': 'talos.dev', 'net.ipv4.ip_forward': '0', 'net/ipv6/conf/eth0.100/disable_ipv6': '1' } }] }),
    sysfs: strMap({ doc: 'sysfs values' }),
    registries: obj(
      {
        mirrors: map(obj({ endpoints: strList({ doc: 'mirror endpoints', omit: false }), overridePath: bool({ doc: 'use the endpoint path as is' }), skipFallback: bool({ doc: 'do not fall back to the upstream registry' }) }), { doc: 'registry mirrors' }),
        config: map(obj({ tls: registryTLS, auth: registryAuth }), { doc: 'registry TLS and authentication' }),
      },
      { doc: 'image registry settings (deprecated: use the Registry*Config documents)', ptr: false },
    ),
    systemDiskEncryption: obj({ state: encryption, ephemeral: encryption }, { doc: 'encryption of the system partitions' }),
    features: features,
    udev: obj({ rules: strList({ doc: 'udev rules' }) }, { doc: 'udev settings' }),
    logging: obj(
      {
        destinations: list(
          obj({
            endpoint: str({ doc: 'where logs go (udp:// or tcp://)', format: 'url', omit: false }),
            format: str({ doc: 'log format (json_lines)', omit: false }),
            extraTags: strMap({ doc: 'extra tags added to each message' }),
          }),
          { doc: 'log destinations', omit: false },
        ),
      },
      { doc: 'sending service logs over the network' },
    ),
    kernel: obj({ modules: list(obj({ name: str({ doc: 'module name', omit: false }), parameters: strList({ doc: 'module parameters' }) }), { doc: 'kernel modules to load' }) }, { doc: 'kernel settings' }),
    seccompProfiles: list(obj({ name: str({ doc: 'profile file name', omit: false }), value: any({ object: true, doc: 'the profile', omit: false }) }), { doc: 'seccomp profiles for the kubelet' }),
    baseRuntimeSpecOverrides: any({ object: true, doc: 'overrides of the base OCI runtime spec', deprecated: 'use CRIBaseRuntimeSpecConfig' }),
    nodeLabels: strMap({ doc: 'labels set on the Kubernetes node' }),
    nodeAnnotations: strMap({ doc: 'annotations set on the Kubernetes node' }),
    nodeTaints: strMap({ doc: 'taints set on the Kubernetes node' }),
  },
  { doc: 'machine-specific settings' },
);

const volumeMount = obj({
  hostPath: str({ doc: 'host path', omit: false }),
  mountPath: str({ doc: 'path in the container', omit: false }),
  readonly: bool({ doc: 'mount read-only', ptr: false }),
});

const resources = obj({ requests: any({ object: true, doc: 'resource requests' }), limits: any({ object: true, doc: 'resource limits' }) }, { doc: 'container resources' });

const image = (what: string) => str({ doc: `${what} image` });

export const clusterSchema = obj(
  {
    id: str({ doc: 'unique cluster identifier (base64)' }),
    secret: str({ doc: 'shared secret of cluster members (base64)' }),
    controlPlane: obj(
      {
        endpoint: str({ doc: 'the Kubernetes API endpoint (https URL)', format: 'url' }),
        localAPIServerPort: int({ doc: 'port the local kube-apiserver listens on' }),
      },
      { doc: 'control plane settings', omit: false },
    ),
    clusterName: str({ doc: 'cluster name' }),
    network: obj(
      {
        cni: obj(
          {
            name: str({ doc: 'CNI to deploy: flannel, custom or none' }),
            urls: strList({ doc: 'manifests of a custom CNI' }),
            flannel: obj({ extraArgs: strList({ doc: 'extra flanneld arguments' }), kubeNetworkPoliciesEnabled: bool({ doc: 'deploy kube-network-policies' }) }, { doc: 'flannel settings' }),
          },
          { doc: 'the CNI', examples: [{ value: { name: 'custom', urls: ['https://docs.projectcalico.org/archive/v3.20/manifests/canal.yaml'] } }] },
        ),
        dnsDomain: str({ doc: 'Kubernetes DNS domain', omit: false }),
        podSubnets: strList({ doc: 'pod networks', omit: false, merge: 'replace' }),
        serviceSubnets: strList({ doc: 'service networks', omit: false, merge: 'replace' }),
      },
      { doc: 'cluster networking' },
    ),
    token: str({ doc: 'Kubernetes bootstrap token' }),
    aescbcEncryptionSecret: str({ doc: 'key for AES-CBC encryption of secrets at rest (base64)' }),
    secretboxEncryptionSecret: str({ doc: 'key for secretbox encryption of secrets at rest (base64)' }),
    ca: pemCertAndKey('the Kubernetes certificate authority'),
    acceptedCAs: list(pemCert, { doc: 'other CAs the Kubernetes API accepts' }),
    aggregatorCA: pemCertAndKey('the front-proxy (aggregation layer) certificate authority'),
    serviceAccount: pemKey('the key that signs service account tokens'),
    apiServer: obj(
      {
        image: image('kube-apiserver'),
        extraArgs: args({ doc: 'extra kube-apiserver flags' }),
        extraVolumes: list(volumeMount, { doc: 'extra volumes' }),
        env: strMap({ doc: 'environment variables' }),
        certSANs: strList({ doc: 'extra SANs of the API server certificate' }),
        disablePodSecurityPolicy: bool({ doc: 'disable the PodSecurityPolicy admission plugin' }),
        admissionControl: list(obj({ name: str({ doc: 'admission plugin name', omit: false }), configuration: any({ object: true, doc: 'plugin configuration', omit: false }) }), { doc: 'admission plugin configuration', merge: { by: ['name'] } }),
        auditPolicy: any({ object: true, doc: 'the audit policy', merge: 'replace' }),
        resources: resources,
        authorizationConfig: list(obj({ type: str({ doc: 'authorizer type', omit: false }), name: str({ doc: 'authorizer name', omit: false }), webhook: any({ object: true, doc: 'webhook settings' }) }), { doc: 'authorizers' }),
      },
      { doc: 'kube-apiserver settings' },
    ),
    controllerManager: obj({ image: image('kube-controller-manager'), extraArgs: args({ doc: 'extra flags' }), extraVolumes: list(volumeMount, { doc: 'extra volumes' }), env: strMap({ doc: 'environment variables' }), resources: resources }, { doc: 'kube-controller-manager settings' }),
    proxy: obj({ disabled: bool({ doc: 'do not deploy kube-proxy' }), image: image('kube-proxy'), mode: str({ doc: 'proxy mode (iptables, ipvs, nftables)' }), extraArgs: args({ doc: 'extra flags' }) }, { doc: 'kube-proxy settings' }),
    scheduler: obj({ image: image('kube-scheduler'), extraArgs: args({ doc: 'extra flags' }), extraVolumes: list(volumeMount, { doc: 'extra volumes' }), env: strMap({ doc: 'environment variables' }), resources: resources, config: any({ object: true, doc: 'scheduler configuration' }) }, { doc: 'kube-scheduler settings' }),
    discovery: obj(
      {
        enabled: bool({ doc: 'enable cluster member discovery' }),
        registries: obj(
          {
            kubernetes: obj({ disabled: bool({ doc: 'disable the Kubernetes registry' }) }, { doc: 'discovery through Kubernetes node annotations', ptr: false, omit: false }),
            service: obj({ disabled: bool({ doc: 'disable the discovery service' }), endpoint: str({ doc: 'discovery service endpoint' }) }, { doc: 'the discovery service', ptr: false, omit: false }),
          },
          { doc: 'discovery registries', ptr: false, omit: false },
        ),
      },
      { doc: 'cluster member discovery' },
    ),
    etcd: obj(
      {
        image: image('etcd'),
        ca: pemCertAndKey('the etcd certificate authority'),
        extraArgs: args({ doc: 'extra etcd flags' }),
        subnet: str({ doc: 'subnet of the advertised address', deprecated: 'use advertisedSubnets' }),
        advertisedSubnets: strList({ doc: 'subnets etcd advertises addresses from' }),
        listenSubnets: strList({ doc: 'subnets etcd listens on' }),
      },
      { doc: 'etcd settings' },
    ),
    coreDNS: obj({ disabled: bool({ doc: 'do not deploy CoreDNS' }), image: image('CoreDNS') }, { doc: 'CoreDNS settings' }),
    externalCloudProvider: obj({ enabled: bool({ doc: 'use an external cloud provider' }), manifests: strList({ doc: 'manifests of the cloud provider' }) }, { doc: 'external cloud provider' }),
    extraManifests: strList({ doc: 'URLs of manifests applied at bootstrap' }),
    extraManifestHeaders: strMap({ doc: 'headers sent when fetching extra manifests' }),
    inlineManifests: list(obj({ name: str({ doc: 'manifest name (unique)', omit: false }), contents: str({ doc: 'manifest contents', omit: false }) }), { doc: 'manifests applied at bootstrap' }),
    adminKubeconfig: obj({ certLifetime: dur({ doc: 'lifetime of the admin kubeconfig certificate' }) }, { doc: 'admin kubeconfig settings' }),
    allowSchedulingOnMasters: bool({ doc: 'allow workloads on control plane nodes', deprecated: 'use allowSchedulingOnControlPlanes' }),
    allowSchedulingOnControlPlanes: bool({ doc: 'allow workloads on control plane nodes' }),
  },
  { doc: 'cluster-wide settings' },
);

export const v1alpha1Schema = obj({
  version: str({ doc: 'the schema of the document', omit: false }),
  debug: bool({ doc: 'verbose console logging' }),
  persist: bool({ doc: 'keep the machine config across reboots' }),
  machine: { ...machineSchema, omit: false },
  cluster: { ...clusterSchema, omit: false },
});
