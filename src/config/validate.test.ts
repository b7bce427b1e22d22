import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createCA, toBase64Pair } from '../pki/cert.js';
import type { MachineConfig } from './document.js';
import { ConfigError } from './errors.js';
import { generateBundle } from './generate/config.js';
import { loadConfig } from './loader.js';
import { applyPatches } from './patch/apply.js';
import { loadPatches } from './patch/load.js';
import { assertValid, type ModeName, validateConfig } from './validate.js';

let cp: MachineConfig;
let worker: MachineConfig;
let pemCert: string;

interface Case {
  name: string;
  /** the base config: control plane (default) or worker */
  on?: 'cp' | 'worker';
  mode?: ModeName;
  /** strategic patches (YAML) that break the config */
  bad: string[];
  /** patches that make the same setting valid */
  good: string[];
  /** the expected problem */
  document?: string;
  path: string;
  message: RegExp;
  /** the problem is a warning, not an error */
  warning?: boolean;
}

const wgKey = Buffer.alloc(32, 7).toString('base64');

const cases: Case[] = [
  // v1alpha1: sections and identity
  { name: 'machine section is required', bad: ['machine:\n  $patch: delete\n'], good: [], path: '.machine', message: /^machine instructions are required$/ },
  { name: 'cluster section is required', bad: ['cluster:\n  $patch: delete\n'], good: [], path: '.cluster', message: /^cluster instructions are required$/ },
  { name: 'control plane endpoint is required', bad: ['cluster:\n  controlPlane:\n    endpoint:\n      $patch: delete\n'], good: [], path: '.cluster.controlPlane.endpoint', message: /cluster controlplane endpoint is required/ },
  { name: 'control plane endpoint must be valid', bad: ['cluster:\n  controlPlane:\n    endpoint: https://fd00::1:6443\n'], good: ['cluster:\n  controlPlane:\n    endpoint: https://[fd00::1]:6443\n'], path: '.cluster.controlPlane.endpoint', message: /invalid controlplane endpoint: IPv6 addresses MUST be enclosed by square brackets/ },
  { name: 'endpoint port in range', bad: ['cluster:\n  controlPlane:\n    endpoint: https://a.example:70000\n'], good: ['cluster:\n  controlPlane:\n    endpoint: https://a.example:7000\n'], path: '.cluster.controlPlane.endpoint', message: /port number must be between 1 and 65535/ },
  { name: 'DNS domain must be a DNS name', bad: ['cluster:\n  network:\n    dnsDomain: "bad domain!"\n'], good: ['cluster:\n  network:\n    dnsDomain: corp.example\n'], path: '.cluster.network.dnsDomain', message: /"bad domain!" is not a valid DNS name/ },
  { name: 'unknown machine type', bad: ['machine:\n  type: master\n'], good: ['machine:\n  type: init\n'], path: '.machine.type', message: /unknown machine type "master"/ },
  { name: 'non-canonical machine type warns', on: 'worker', bad: ['machine:\n  type: join\n'], good: [], path: '.machine.type', message: /use "worker" instead of "join" for machine type/, warning: true },
  { name: '.persist must be true', bad: ['persist: false\n'], good: ['persist: true\n'], path: '.persist', message: /\.persist should be enabled/ },
  // CA rules
  { name: 'control plane needs the CA key', bad: ['machine:\n  ca:\n    key:\n      $patch: delete\n'], good: [], path: '.machine.ca.key', message: /issuing CA key is required for controlplane nodes/ },
  { name: 'a CA or accepted CAs are required', bad: ['machine:\n  ca:\n    $patch: delete\n'], good: ['machine:\n  acceptedCAs:\n    - crt: @@CA_CRT@@\n'], path: '.machine.ca', message: /issuing CA or some accepted CAs are required/ },
  { name: 'workers must not carry the Talos API CA key', on: 'worker', bad: ['machine:\n  ca:\n    key: a2V5\n'], good: [], path: '.machine.ca.key', message: /issuing Talos API CA key is not allowed on non-controlplane nodes/ },
  { name: 'workers need trusted CA certificates', on: 'worker', bad: ['machine:\n  ca:\n    crt:\n      $patch: delete\n'], good: ['machine:\n  acceptedCAs:\n    - crt: @@CA_CRT@@\n'], path: '.machine.ca.crt', message: /trusted CA certificates are required on non-controlplane nodes/ },
  { name: 'workers must not carry the Kubernetes CA key', on: 'worker', bad: ['cluster:\n  ca:\n    key: a2V5\n'], good: [], path: '.cluster.ca.key', message: /(cluster CA key|issuing Kubernetes API CA key) is not allowed on non-controlplane nodes/ },
  { name: 'etcd settings only on control planes', on: 'worker', bad: ['cluster:\n  etcd:\n    advertisedSubnets: [10.0.0.0/8]\n'], good: [], path: '.cluster.etcd', message: /etcd config is only allowed on control plane machines/ },
  { name: 'etcd subnets must be valid', bad: ['cluster:\n  etcd:\n    advertisedSubnets: ["!10.0.0.0/33"]\n'], good: ['cluster:\n  etcd:\n    advertisedSubnets: ["!10.0.0.0/8"]\n'], path: '.cluster.etcd.advertisedSubnets', message: /etcd advertised subnet is not valid: "10.0.0.0\/33"/ },
  // CNI
  { name: 'CNI name must be known', bad: ['cluster:\n  network:\n    cni:\n      name: calico\n'], good: ['cluster:\n  network:\n    cni:\n      name: none\n'], path: '.cluster.network.cni.name', message: /cni name should be one of \["flannel", "custom", "none"\]/ },
  { name: 'flannel takes no URLs', bad: ['cluster:\n  network:\n    cni:\n      name: flannel\n      urls: [https://a.example/cni.yaml]\n'], good: ['cluster:\n  network:\n    cni:\n      name: custom\n      urls: [https://a.example/cni.yaml]\n'], path: '.cluster.network.cni.urls', message: /"urls" field should be empty for "flannel" CNI/ },
  { name: 'custom CNI without URLs warns', bad: ['cluster:\n  network:\n    cni:\n      name: custom\n'], good: ['cluster:\n  network:\n    cni:\n      name: custom\n      urls: [https://a.example/cni.yaml]\n'], path: '.cluster.network.cni.urls', message: /"urls" field should not be empty for "custom" CNI/, warning: true },
  // install and modes
  { name: 'metal mode needs install instructions', mode: 'metal', bad: ['machine:\n  install:\n    $patch: delete\n'], good: [], path: '.machine.install', message: /install instructions are required in "metal" mode/ },
  { name: 'metal mode needs an install disk or selector', mode: 'metal', bad: ['machine:\n  install:\n    disk:\n      $patch: delete\n'], good: ['machine:\n  install:\n    diskSelector:\n      size: ">= 100GB"\n'], path: '.machine.install', message: /either install disk or diskSelector should be defined/ },
  { name: 'extraKernelArgs and grubUseUKICmdline exclude each other', mode: 'metal', bad: ['machine:\n  install:\n    extraKernelArgs: [console=ttyS0]\n'], good: ['machine:\n  install:\n    extraKernelArgs: [console=ttyS0]\n    grubUseUKICmdline: false\n'], path: '.machine.install', message: /install.extraKernelArgs and install.grubUseUKICmdline can't be used together/ },
  { name: 'cloud mode does not need install instructions', mode: 'cloud', bad: ['machine:\n  install:\n    disk:\n      $patch: delete\n  type: bogus\n'], good: ['machine:\n  install:\n    disk:\n      $patch: delete\n'], path: '.machine.type', message: /unknown machine type/ },
  { name: 'container mode needs host DNS', mode: 'container', bad: ['machine:\n  features:\n    hostDNS:\n      enabled: false\n      forwardKubeDNSToHost: false\n'], good: [], path: '.machine.features.hostDNS.enabled', message: /feature HostDNS should be enabled in container mode/ },
  { name: 'forwardKubeDNSToHost needs hostDNS', mode: 'cloud', bad: ['machine:\n  features:\n    hostDNS:\n      enabled: false\n'], good: ['machine:\n  features:\n    hostDNS:\n      forwardKubeDNSToHost: false\n      enabled: false\n'], path: '.machine.features.hostDNS', message: /feature hostDNS.forwardKubeDNSToHost requires hostDNS.enabled to be true/ },
  // network
  { name: 'an interface needs a name or a selector', bad: ['machine:\n  network:\n    interfaces:\n      - dhcp: true\n'], good: ['machine:\n  network:\n    interfaces:\n      - deviceSelector:\n          busPath: "0*"\n        dhcp: true\n'], path: '.machine.network.interfaces[0]', message: /required either config section to be set/ },
  { name: 'interface name and selector exclude each other', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        deviceSelector:\n          driver: virtio_net\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n'], path: '.machine.network.interfaces[0]', message: /config sections are mutually exclusive/ },
  { name: 'addresses must be IPs or CIDRs', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        addresses: [10.0.0.300/24]\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        addresses: [10.0.0.3/24]\n'], path: '.machine.network.interfaces[0].addresses[0]', message: /invalid address "10.0.0.300\/24"/ },
  { name: 'legacy cidr warns', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        cidr: 10.0.0.3/24\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        addresses: [10.0.0.3/24]\n'], path: '.machine.network.interfaces[0].cidr', message: /machine.network.interface.cidr is deprecated/, warning: true },
  { name: 'routes need a network or a gateway, both valid', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        routes:\n          - metric: 10\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        routes:\n          - network: 0.0.0.0/0\n            gateway: 10.0.0.1\n'], path: '.machine.network.interfaces[0].routes[0]', message: /either network or gateway should be set/ },
  { name: 'route gateway must be an IP', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        routes:\n          - network: 0.0.0.0/0\n            gateway: router\n'], good: [], path: '.machine.network.interfaces[0].routes[0].gateway', message: /"router": invalid network address/ },
  { name: 'VIP must be an IP address', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vip:\n          ip: 10.0.0\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vip:\n          ip: 10.0.0.50\n'], path: '.machine.network.interfaces[0].vip.ip', message: /failed to parse "10.0.0" as IP address/ },
  { name: 'no VIP on workers', on: 'worker', bad: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vip:\n          ip: 10.0.0.50\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n'], path: '.machine.network.interfaces[0].vip', message: /virtual \(shared\) IP is not allowed on non-controlplane nodes/ },
  { name: 'bond and bridge exclude each other', bad: ['machine:\n  network:\n    interfaces:\n      - interface: br0\n        bond:\n          mode: active-backup\n          interfaces: [eth0]\n        bridge:\n          interfaces: [eth1]\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: br0\n        bridge:\n          interfaces: [eth1]\n'], path: '.machine.network.interfaces[0]', message: /interface has both bridge and bond sections set "br0"/ },
  { name: 'a link belongs to one bond or bridge', bad: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: active-backup\n          interfaces: [eth0]\n      - interface: br0\n        bridge:\n          interfaces: [eth0]\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: active-backup\n          interfaces: [eth0]\n      - interface: br0\n        bridge:\n          interfaces: [eth1]\n'], path: '.machine.network.interfaces[1]', message: /interface "eth0" is declared as part of two separate links: "bond0" and "br0"/ },
  { name: 'bond mode must be known', bad: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: fastest\n          interfaces: [eth0]\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: 802.3ad\n          interfaces: [eth0]\n'], path: '.machine.network.interfaces[0].bond.mode', message: /invalid bond mode "fastest"/ },
  { name: 'bond delays need miimon', bad: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: active-backup\n          interfaces: [eth0]\n          updelay: 200\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: active-backup\n          interfaces: [eth0]\n          miimon: 100\n          updelay: 200\n'], path: '.machine.network.interfaces[0].bond.updelay', message: /bond.upDelay can't be set if miiMon is zero/ },
  { name: 'lacpRate only in 802.3ad', bad: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: active-backup\n          interfaces: [eth0]\n          lacpRate: fast\n'], good: ['machine:\n  network:\n    interfaces:\n      - interface: bond0\n        bond:\n          mode: 802.3ad\n          interfaces: [eth0]\n          lacpRate: fast\n'], path: '.machine.network.interfaces[0].bond.lacpRate', message: /bond.lacpRate is only available in 802.3ad mode/ },
  { name: 'wireguard keys are 32 bytes of base64', bad: ['machine:\n  network:\n    interfaces:\n      - interface: wg0\n        wireguard:\n          privateKey: c2hvcnQ=\n'], good: [`machine:\n  network:\n    interfaces:\n      - interface: wg0\n        wireguard:\n          privateKey: ${wgKey}\n`], path: '.machine.network.interfaces[0].wireguard.privateKey', message: /private key is invalid: wrong key "c2hvcnQ=" length: 5/ },
  { name: 'kubespan MTU at least 1280', bad: ['machine:\n  network:\n    kubespan:\n      enabled: true\n      mtu: 1000\n'], good: ['machine:\n  network:\n    kubespan:\n      enabled: true\n      mtu: 1420\n'], path: '.machine.network.kubespan.mtu', message: /kubespan link MTU must be at least 1280/ },
  { name: 'kubespan needs discovery', bad: ['machine:\n  network:\n    kubespan:\n      enabled: true\ncluster:\n  discovery:\n    enabled: false\n'], good: ['machine:\n  network:\n    kubespan:\n      enabled: true\n'], path: '.cluster.discovery.enabled', message: /\.cluster\.discovery should be enabled when \.machine\.network\.kubespan is enabled/ },
  { name: 'kubespan endpoint filters are subnets', bad: ['machine:\n  network:\n    kubespan:\n      enabled: true\n      filters:\n        endpoints: ["!nonsense"]\n'], good: ['machine:\n  network:\n    kubespan:\n      enabled: true\n      filters:\n        endpoints: ["!192.168.0.0/16", "0.0.0.0/0"]\n'], path: '.machine.network.kubespan.filters.endpoints', message: /KubeSpan endpoint filter is not valid: "nonsense"/ },
  { name: 'discovery service needs the cluster id and secret', bad: ['cluster:\n  id:\n    $patch: delete\n'], good: [], path: '.cluster.id', message: /cluster discovery service requires \.cluster\.id/ },
  { name: 'discovery service endpoint has no path', bad: ['cluster:\n  discovery:\n    registries:\n      service:\n        endpoint: https://discovery.example/v1/\n'], good: ['cluster:\n  discovery:\n    registries:\n      service:\n        endpoint: https://discovery.example/\n'], path: '.cluster.discovery.registries.service.endpoint', message: /cluster discovery service path should be empty/ },
  // kubelet, disks, encryption, logging, extensions
  { name: 'kubelet node IP subnets must be valid', bad: ['machine:\n  kubelet:\n    nodeIP:\n      validSubnets: [10.0.0.0/99]\n'], good: ['machine:\n  kubelet:\n    nodeIP:\n      validSubnets: [10.0.0.0/8]\n'], path: '.machine.kubelet.nodeIP.validSubnets', message: /kubelet nodeIP subnet is not valid: "10.0.0.0\/99"/ },
  { name: 'protected kubelet settings cannot be overridden', bad: ['machine:\n  kubelet:\n    extraConfig:\n      port: 1234\n'], good: ['machine:\n  kubelet:\n    extraConfig:\n      serverTLSBootstrap: true\n'], path: '.machine.kubelet.extraConfig.port', message: /kubelet configuration field "port" can't be overridden/ },
  { name: 'only the last partition may fill the disk', bad: ['machine:\n  disks:\n    - device: /dev/sdb\n      partitions:\n        - mountpoint: /var/a\n        - mountpoint: /var/b\n          size: 10GB\n'], good: ['machine:\n  disks:\n    - device: /dev/sdb\n      partitions:\n        - mountpoint: /var/a\n          size: 10GB\n        - mountpoint: /var/b\n'], path: '.machine.disks[0].partitions[0].size', message: /set to occupy full disk, but it's not the last partition/ },
  { name: 'encryption key slots are unique', bad: ['machine:\n  systemDiskEncryption:\n    state:\n      provider: luks2\n      keys:\n        - slot: 0\n          nodeID: {}\n        - slot: 0\n          tpm: {}\n'], good: ['machine:\n  systemDiskEncryption:\n    state:\n      provider: luks2\n      keys:\n        - slot: 0\n          nodeID: {}\n        - slot: 1\n          tpm: {}\n'], path: '.machine.systemDiskEncryption.state.keys[1].slot', message: /encryption key slot 0 is already in use/ },
  { name: 'encryption keys need a type', bad: ['machine:\n  systemDiskEncryption:\n    ephemeral:\n      provider: luks2\n      keys:\n        - slot: 0\n'], good: ['machine:\n  systemDiskEncryption:\n    ephemeral:\n      provider: luks2\n      keys:\n        - slot: 0\n          static:\n            passphrase: p\n'], path: '.machine.systemDiskEncryption.ephemeral.keys[0]', message: /encryption key at slot 0 doesn't have the configuration parameters/ },
  { name: 'logging endpoints are tcp or udp', bad: ['machine:\n  logging:\n    destinations:\n      - endpoint: http://10.0.0.1:514\n        format: json_lines\n'], good: ['machine:\n  logging:\n    destinations:\n      - endpoint: udp://10.0.0.1:514\n        format: json_lines\n'], path: '.machine.logging.destinations[0].endpoint', message: /unexpected logging endpoint scheme "http"/ },
  { name: 'logging format is json_lines', bad: ['machine:\n  logging:\n    destinations:\n      - endpoint: tcp://10.0.0.1:514\n        format: syslog\n'], good: [], path: '.machine.logging.destinations[0].format', message: /unknown logging format "syslog"/ },
  { name: 'system extensions are unique', bad: ['machine:\n  install:\n    extensions:\n      - image: ghcr.io/siderolabs/gvisor:1\n      - image: ghcr.io/siderolabs/gvisor:1\n'], good: [], path: '.machine.install.extensions[1].image', message: /duplicate system extension/ },
  { name: 'system extensions are deprecated', bad: ['machine:\n  install:\n    extensions:\n      - image: ghcr.io/siderolabs/gvisor:1\n'], good: [], path: '.machine.install.extensions', message: /\.machine\.install\.extensions is deprecated/, warning: true },
  { name: 'machine files are deprecated', bad: ['machine:\n  files:\n    - content: x\n      permissions: 0o644\n      path: /var/f\n      op: create\n'], good: [], path: '.machine.files', message: /\.machine\.files is deprecated/, warning: true },
  // node metadata and features
  { name: 'node labels must be valid', bad: ['machine:\n  nodeLabels:\n    "bad key!": x\n'], good: ['machine:\n  nodeLabels:\n    example.com/key: value\n'], path: '.machine.nodeLabels["bad key!"]', message: /invalid machine node labels: name "bad key!" is invalid/ },
  { name: 'node label values must be valid', bad: ['machine:\n  nodeLabels:\n    key: "-bad"\n'], good: ['machine:\n  nodeLabels:\n    key: good\n'], path: '.machine.nodeLabels["key"]', message: /label value "-bad" is invalid/ },
  { name: 'reserved annotations', bad: ['machine:\n  nodeAnnotations:\n    talos.dev/owned-labels: x\n'], good: ['machine:\n  nodeAnnotations:\n    talos.dev/mine: x\n'], path: '.machine.nodeAnnotations["talos.dev/owned-labels"]', message: /annotation "talos.dev\/owned-labels" is reserved/ },
  { name: 'taint effects', bad: ['machine:\n  nodeTaints:\n    dedicated: gpu:Sometimes\n'], good: ['machine:\n  nodeTaints:\n    dedicated: gpu:NoSchedule\n'], path: '.machine.nodeTaints["dedicated"]', message: /invalid taint effect: "Sometimes"/ },
  { name: 'Talos API access from pods only on control planes', on: 'worker', bad: ['machine:\n  features:\n    kubernetesTalosAPIAccess:\n      enabled: true\n'], good: ['machine:\n  features:\n    kubernetesTalosAPIAccess:\n      enabled: false\n'], path: '.machine.features.kubernetesTalosAPIAccess.enabled', message: /can only be enabled on control plane machines/ },
  { name: 'Talos API access roles must exist', bad: ['machine:\n  features:\n    kubernetesTalosAPIAccess:\n      enabled: true\n      allowedRoles: [os:god]\n'], good: ['machine:\n  features:\n    kubernetesTalosAPIAccess:\n      enabled: true\n      allowedRoles: [os:reader]\n'], path: '.machine.features.kubernetesTalosAPIAccess.allowedRoles', message: /invalid role "os:god"/ },
  { name: 'node address sort algorithm', bad: ['machine:\n  features:\n    nodeAddressSortAlgorithm: v3\n'], good: ['machine:\n  features:\n    nodeAddressSortAlgorithm: v2\n'], path: '.machine.features.nodeAddressSortAlgorithm', message: /invalid node address sort algorithm/ },
  { name: 'inline manifests have unique names', bad: ['cluster:\n  inlineManifests:\n    - name: a\n      contents: x\n    - name: a\n      contents: y\n'], good: ['cluster:\n  inlineManifests:\n    - name: a\n      contents: x\n    - name: b\n      contents: y\n'], path: '.cluster.inlineManifests[1].name', message: /inline manifest name "a" is duplicate/ },
  { name: 'external cloud provider manifests need it enabled', bad: ['cluster:\n  externalCloudProvider:\n    manifests: [https://a.example/ccm.yaml]\n'], good: ['cluster:\n  externalCloudProvider:\n    enabled: true\n    manifests: [https://a.example/ccm.yaml]\n'], path: '.cluster.externalCloudProvider', message: /external cloud provider is disabled, but manifests are provided/ },
  // other documents
  { name: 'HostnameConfig needs auto or hostname', bad: ['apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: ""\n'], good: [], document: 'HostnameConfig', path: '.', message: /either 'auto' or 'hostname' must be set/ },
  { name: 'HostnameConfig auto and hostname exclude each other', bad: ['apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: n1\n'], good: ['apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: n1\n'], document: 'HostnameConfig', path: '.hostname', message: /'auto' and 'hostname' cannot be set at the same time/ },
  { name: 'HostnameConfig conflicts with a static hostname in v1alpha1', bad: ['machine:\n  network:\n    hostname: n1\n'], good: ['machine:\n  network:\n    hostname: n1\n---\napiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n'], document: 'HostnameConfig', path: '.', message: /static hostname is already set in v1alpha1 config/ },
  { name: 'ResolverConfig conflicts with v1alpha1 nameservers', bad: ['machine:\n  network:\n    nameservers: [1.1.1.1]\n---\napiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 8.8.8.8\n'], good: ['apiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 8.8.8.8\n'], document: 'ResolverConfig', path: '.', message: /\.machine\.network\.nameservers is already set in v1alpha1 config/ },
  { name: 'TimeSyncConfig takes NTP or PTP', bad: ['apiVersion: v1alpha1\nkind: TimeSyncConfig\nntp:\n  servers: [pool.ntp.org]\nptp:\n  devices: [/dev/ptp0]\n'], good: ['apiVersion: v1alpha1\nkind: TimeSyncConfig\nntp:\n  servers: [pool.ntp.org]\n'], document: 'TimeSyncConfig', path: '.', message: /only one of ntp or ptp configuration can be specified/ },
  { name: 'TimeSyncConfig conflicts with v1alpha1 time servers', bad: ['machine:\n  time:\n    servers: [a.example]\n---\napiVersion: v1alpha1\nkind: TimeSyncConfig\nenabled: true\n'], good: ['apiVersion: v1alpha1\nkind: TimeSyncConfig\nntp:\n  servers: [a.example]\n'], document: 'TimeSyncConfig', path: '.', message: /time servers cannot be specified in both/ },
  { name: 'KubeSpanConfig conflicts with v1alpha1 kubespan', bad: ['machine:\n  network:\n    kubespan:\n      enabled: true\n---\napiVersion: v1alpha1\nkind: KubeSpanConfig\nenabled: true\n'], good: ['apiVersion: v1alpha1\nkind: KubeSpanConfig\nenabled: true\n'], document: 'KubeSpanConfig', path: '.', message: /kubespan is already configured in v1alpha1/ },
  { name: 'LinkConfig addresses are not unspecified', bad: ['apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 0.0.0.0/24\n'], good: ['apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 10.0.0.2/24\n'], document: 'LinkConfig/eth0', path: '.addresses[0].address', message: /address 0 must be a valid IP address/ },
  { name: 'VLANConfig needs an ID and a parent', bad: ['apiVersion: v1alpha1\nkind: VLANConfig\nname: vlan5\n'], good: ['apiVersion: v1alpha1\nkind: VLANConfig\nname: vlan5\nvlanID: 5\nparent: eth0\n'], document: 'VLANConfig/vlan5', path: '.vlanID', message: /vlanID must be specified and between 1 and 4094/ },
  { name: 'BondConfig needs a mode and links', bad: ['apiVersion: v1alpha1\nkind: BondConfig\nname: bond0\n'], good: ['apiVersion: v1alpha1\nkind: BondConfig\nname: bond0\nlinks: [eth0, eth1]\nbondMode: active-backup\n'], document: 'BondConfig/bond0', path: '.bondMode', message: /bond mode must be specified/ },
  { name: '802.3ad bonds warn about missing timers', bad: ['apiVersion: v1alpha1\nkind: BondConfig\nname: bond0\nlinks: [eth0]\nbondMode: 802.3ad\n'], good: ['apiVersion: v1alpha1\nkind: BondConfig\nname: bond0\nlinks: [eth0]\nbondMode: 802.3ad\nmiimon: 100\nupdelay: 200\ndowndelay: 200\n'], document: 'BondConfig/bond0', path: '.miimon', message: /miimon was not specified for 802.3ad bond/, warning: true },
  { name: 'Layer2VIPConfig is named by its IP', bad: ['apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: vip\nlink: eth0\n'], good: ['apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 10.0.0.50\nlink: eth0\n'], document: 'Layer2VIPConfig/vip', path: '.name', message: /name must be a valid IP address/ },
  { name: 'StaticHostConfig needs host names', bad: ['apiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.9\nhostnames: []\n'], good: ['apiVersion: v1alpha1\nkind: StaticHostConfig\nname: 10.0.0.9\nhostnames: [registry.local]\n'], document: 'StaticHostConfig/10.0.0.9', path: '.hostnames', message: /at least one hostname is required/ },
  { name: 'RoutingRuleConfig priority is not reserved', bad: ['apiVersion: v1alpha1\nkind: RoutingRuleConfig\nname: "32766"\ntable: "100"\n'], good: ['apiVersion: v1alpha1\nkind: RoutingRuleConfig\nname: "1000"\ntable: "100"\n'], document: 'RoutingRuleConfig/32766', path: '.name', message: /excluding reserved priorities/ },
  { name: 'NetworkRuleConfig port ranges do not overlap', bad: ['apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: web\nportSelector:\n  ports: [80, 70-90]\n  protocol: tcp\ningress:\n  - subnet: 10.0.0.0/8\n'], good: ['apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: web\nportSelector:\n  ports: [80, 443, 8000-9000]\n  protocol: tcp\ningress:\n  - subnet: 10.0.0.0/8\n'], document: 'NetworkRuleConfig/web', path: '.portSelector.ports', message: /overlaps with/ },
  { name: 'WireguardConfig needs a valid private key', bad: ['apiVersion: v1alpha1\nkind: WireguardConfig\nname: wg0\nprivateKey: nope\n'], good: [`apiVersion: v1alpha1\nkind: WireguardConfig\nname: wg0\nprivateKey: ${wgKey}\n`], document: 'WireguardConfig/wg0', path: '.privateKey', message: /wireguard private key is invalid/ },
  { name: 'DHCPv4Config duidRaw goes with the duid identifier', bad: ['apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth0\nclientIdentifier: duid\n'], good: ['apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth0\nclientIdentifier: duid\nduidRaw: "00:01:02"\n'], document: 'DHCPv4Config/eth0', path: '.duidRaw', message: /duidRaw must be set if clientIdentifier is 'duid'/ },
  { name: 'VolumeConfig only for system volumes', bad: ['apiVersion: v1alpha1\nkind: VolumeConfig\nname: DATA\n'], good: ['apiVersion: v1alpha1\nkind: VolumeConfig\nname: EPHEMERAL\nprovisioning:\n  maxSize: 40GB\n'], document: 'VolumeConfig/DATA', path: '.name', message: /only \["STATE" "EPHEMERAL" "IMAGECACHE"\] volumes are supported/ },
  { name: 'VolumeConfig sizes are ordered', bad: ['apiVersion: v1alpha1\nkind: VolumeConfig\nname: EPHEMERAL\nprovisioning:\n  minSize: 50GB\n  maxSize: 10GB\n'], good: ['apiVersion: v1alpha1\nkind: VolumeConfig\nname: EPHEMERAL\nprovisioning:\n  minSize: 5GB\n  maxSize: 10GB\n'], document: 'VolumeConfig/EPHEMERAL', path: '.provisioning.minSize', message: /min size is greater than max size/ },
  { name: 'UserVolumeConfig needs a disk selector', bad: ['apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\nprovisioning:\n  maxSize: 10GB\n'], good: ['apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\nprovisioning:\n  diskSelector:\n    match: disk.transport == "nvme"\n  maxSize: 10GB\n'], document: 'UserVolumeConfig/data', path: '.provisioning.diskSelector.match', message: /disk selector is required/ },
  { name: 'ExtensionServiceConfig needs files or environment', bad: ['apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: tailscale\n'], good: ['apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: tailscale\nenvironment: [TS_AUTHKEY=x]\n'], document: 'ExtensionServiceConfig/tailscale', path: '.configFiles', message: /no config files found for extension "tailscale"/ },
  { name: 'KmsgLogConfig URL is tcp or udp with a port', bad: ['apiVersion: v1alpha1\nkind: KmsgLogConfig\nname: remote\nurl: tcp://10.0.0.1\n'], good: ['apiVersion: v1alpha1\nkind: KmsgLogConfig\nname: remote\nurl: tcp://10.0.0.1:5000\n'], document: 'KmsgLogConfig/remote', path: '.url', message: /url port is required/ },
  { name: 'SideroLinkConfig URL is https or grpc', bad: ['apiVersion: v1alpha1\nkind: SideroLinkConfig\napiUrl: http://omni.example\n'], good: ['apiVersion: v1alpha1\nkind: SideroLinkConfig\napiUrl: https://omni.example:8090?jointoken=x\n'], document: 'SideroLinkConfig', path: '.apiUrl', message: /apiUrl scheme must be https:\/\/ or grpc:\/\// },
  { name: 'EventSinkConfig endpoint is host:port', bad: ['apiVersion: v1alpha1\nkind: EventSinkConfig\nendpoint: 10.0.0.1\n'], good: ['apiVersion: v1alpha1\nkind: EventSinkConfig\nendpoint: "[fdae:41e4:649b:9303::1]:8080"\n'], document: 'EventSinkConfig', path: '.endpoint', message: /event sink endpoint: address 10.0.0.1: missing port in address/ },
  { name: 'WatchdogTimerConfig timeout at least 10s', bad: ['apiVersion: v1alpha1\nkind: WatchdogTimerConfig\ndevice: /dev/watchdog0\ntimeout: 5s\n'], good: ['apiVersion: v1alpha1\nkind: WatchdogTimerConfig\ndevice: /dev/watchdog0\ntimeout: 2m\n'], document: 'WatchdogTimerConfig', path: '.timeout', message: /minimum value is 10s/ },
  { name: 'EnvironmentConfig variable names', bad: ['apiVersion: v1alpha1\nkind: EnvironmentConfig\nvariables:\n  1BAD: x\n'], good: ['apiVersion: v1alpha1\nkind: EnvironmentConfig\nvariables:\n  GOOD_1: x\n'], document: 'EnvironmentConfig', path: '.variables["1BAD"]', message: /invalid environment variable name: "1BAD"/ },
  { name: 'RegistryMirrorConfig endpoints are http(s)', bad: ['apiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\nendpoints:\n  - url: ftp://mirror.example\n'], good: ['apiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\nendpoints:\n  - url: https://mirror.example\n'], document: 'RegistryMirrorConfig/docker.io', path: '.endpoints[0].url', message: /unsupported scheme: "ftp"/ },
  { name: 'RegistryAuthConfig takes one kind of credential', bad: ['apiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: ghcr.io\nusername: u\nidentityToken: t\n'], good: ['apiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: ghcr.io\nusername: u\npassword: p\n'], document: 'RegistryAuthConfig/ghcr.io', path: '.identityToken', message: /only one of username\/password or identityToken/ },
  { name: 'TrustedRootsConfig holds certificates', bad: ['apiVersion: v1alpha1\nkind: TrustedRootsConfig\nname: corp\ncertificates: not a cert\n'], good: ['apiVersion: v1alpha1\nkind: TrustedRootsConfig\nname: corp\ncertificates: |\n  set in before()\n'], document: 'TrustedRootsConfig/corp', path: '.certificates', message: /certificates are invalid/ },
  { name: 'ImageVerificationConfig rules need a verifier', bad: ['apiVersion: v1alpha1\nkind: ImageVerificationConfig\nrules:\n  - image: docker.io/*\n'], good: ['apiVersion: v1alpha1\nkind: ImageVerificationConfig\nrules:\n  - image: docker.io/*\n    skip: true\n'], document: 'ImageVerificationConfig', path: '.rules[0]', message: /rule 0: at least one verifier must be configured/ },
  { name: 'ZswapConfig pool percentage', bad: ['apiVersion: v1alpha1\nkind: ZswapConfig\nmaxPoolPercent: 150\n'], good: ['apiVersion: v1alpha1\nkind: ZswapConfig\nmaxPoolPercent: 25\n'], document: 'ZswapConfig', path: '.maxPoolPercent', message: /maxPoolPercent must be between 0 and 100/ },
];

function build(base: MachineConfig, patches: string[]): MachineConfig {
  const texts = patches.map((p) => p.replace(/@@CA_CRT@@/g, pemCert));
  let cfg = base;
  for (const t of texts) cfg = applyPatches(cfg, loadPatches([t]));
  return cfg;
}

describe('validation', () => {
  before(async () => {
    const b = await generateBundle({ clusterName: 'v', endpoint: 'https://10.5.0.2:6443', installDisk: '/dev/sda' });
    cp = b.controlplane;
    worker = b.worker;
    const ca = await createCA('ecdsa', { organization: ['x'] });
    pemCert = toBase64Pair(ca).crt;
    cases.find((c) => c.name === 'TrustedRootsConfig holds certificates')!.good = [`apiVersion: v1alpha1\nkind: TrustedRootsConfig\nname: corp\ncertificates: |\n${ca.certPEM.replace(/^/gm, '  ').trimEnd()}\n`];
  });

  it('passes generated control plane and worker configs in every mode', () => {
    for (const mode of ['metal', 'cloud', 'container'] as const) {
      assert.deepEqual(validateConfig(cp, mode), { errors: [], warnings: [] });
      assert.deepEqual(validateConfig(worker, mode), { errors: [], warnings: [] });
    }
  });

  for (const c of cases) {
    it(c.name, () => {
      const base = c.on === 'worker' ? worker : cp;
      const mode = c.mode ?? 'metal';
      const bad = validateConfig(build(base, c.bad), mode);
      const list = c.warning ? bad.warnings : bad.errors;
      const hit = list.find((i) => c.message.test(i.message));
      assert.ok(hit, `expected ${c.message} in ${JSON.stringify(list)}`);
      assert.equal(hit.path, c.path);
      assert.equal(hit.document, c.document ?? 'v1alpha1');
      if (!c.warning) assert.ok(!bad.warnings.some((w) => c.message.test(w.message)));
      const good = validateConfig(build(base, c.good), mode);
      assert.deepEqual(good.errors, [], `the valid variant has errors: ${JSON.stringify(good.errors)}`);
      assert.ok(!good.warnings.some((w) => c.message.test(w.message)), JSON.stringify(good.warnings));
    });
  }

  it('strict mode turns warnings into errors', () => {
    const cfg = build(worker, ['machine:\n  type: join\n']);
    assert.equal(validateConfig(cfg, 'metal').errors.length, 0);
    const strict = validateConfig(cfg, 'metal', { strict: true });
    assert.deepEqual(strict.warnings, []);
    assert.deepEqual(strict.errors.map((e) => e.message), ['warning: use "worker" instead of "join" for machine type']);
  });

  it('does not require install settings on installed nodes (ApplyConfiguration)', () => {
    const cfg = build(cp, ['machine:\n  install:\n    $patch: delete\n']);
    assert.equal(validateConfig(cfg, 'metal').errors.length, 1);
    assert.equal(validateConfig(cfg, 'metal', { installed: true }).errors.length, 0);
  });

  it('throws one error listing every problem with document and path', () => {
    const cfg = loadConfig('version: v1alpha1\npersist: false\nmachine:\n  type: worker\ncluster:\n  controlPlane:\n    endpoint: https://a.example:6443\n');
    assert.throws(
      () => assertValid(cfg, 'cloud'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'BRONZE_CONFIG_INVALID');
        assert.match(e.message, /^2 errors occurred:\n\t\* v1alpha1: \.machine\.ca: issuing CA or some accepted CAs are required/);
        assert.match(e.message, /\t\* v1alpha1: \.persist: \.persist should be enabled/);
        return true;
      },
    );
    assert.throws(() => validateConfig(cfg, 'bare' as ModeName), { code: 'BRONZE_CONFIG_INVALID', message: 'unknown mode "bare": expected one of metal, cloud, container' });
  });
});
