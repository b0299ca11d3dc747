/**
 * The cloud-init document a machine runs once its boothook has fetched it (the bootstrap data proper, kept in
 * the machine's secret): the files kubeadm needs (its configuration and, on the first control-plane machine,
 * the cluster's CAs), and a script that installs containerd and the kubelet, kubeadm and kubectl of the
 * machine's version from the Kubernetes package repositories (pkgs.k8s.io, one repository per minor version),
 * sets the node's provider ID from the instance metadata, and runs kubeadm. Learnt from Cluster API
 * bootstrap/kubeadm/internal/cloudinit (controlplane_init.go, node.go: write_files then runcmd, files 0640 and
 * keys 0600, the configuration under /run/kubeadm, the bootstrap-success sentinel) and Kubernetes' install
 * documentation (kernel modules, sysctls, swap, the systemd cgroup driver), written anew.
 */
import { stringify } from 'yaml';
import type { ClusterCertificates } from './pki.js';
import { KUBEADM_CONFIG_PATH, PROVIDER_ID_PLACEHOLDER, parseKubernetesVersion } from './kubeadm-config.js';

export const BOOTSTRAP_SCRIPT_PATH = '/run/clusterless/bootstrap.sh';
/** Written once kubeadm succeeded (Cluster API's /run/cluster-api/bootstrap-success.complete). */
export const BOOTSTRAP_SENTINEL_PATH = '/run/clusterless/bootstrap-success.complete';

export interface WriteFile {
  path: string;
  content: string;
  permissions: string;
  owner?: string;
}

export interface CloudConfigInput {
  version: string;
  mode: 'init' | 'join';
  /** The kubeadm configuration (renderInitConfiguration or renderJoinConfiguration). */
  kubeadmConfig: string;
  /** For `init`: the cluster's CAs, written to /etc/kubernetes/pki before kubeadm init. */
  certificates?: ClusterCertificates;
}

/** The CA files of the first control-plane machine (kubeadm's names; keys 0600). */
export function pkiFiles(certs: ClusterCertificates): WriteFile[] {
  const pki = '/etc/kubernetes/pki';
  const file = (name: string, content: string, secret: boolean): WriteFile => ({ path: `${pki}/${name}`, content, permissions: secret ? '0600' : '0644', owner: 'root:root' });
  return [
    file('ca.crt', certs.ca.cert, false),
    file('ca.key', certs.ca.key, true),
    file('front-proxy-ca.crt', certs.frontProxyCa.cert, false),
    file('front-proxy-ca.key', certs.frontProxyCa.key, true),
    file('etcd/ca.crt', certs.etcdCa.cert, false),
    file('etcd/ca.key', certs.etcdCa.key, true),
    file('sa.pub', certs.serviceAccount.pub, false),
    file('sa.key', certs.serviceAccount.key, true),
  ];
}

/**
 * The bootstrap script: bash, `set -euo pipefail`, every expansion quoted (the tests run shellcheck on it).
 * apt (Debian, Ubuntu) and dnf (Amazon Linux 2023, Fedora, RHEL) hosts.
 */
export function bootstrapScript(version: string, mode: 'init' | 'join'): string {
  const v = parseKubernetesVersion(version);
  const minor = `v${v.major}.${v.minor}`;
  const plain = `${v.major}.${v.minor}.${v.patch}`;
  return `#!/bin/bash
# clusterless: install containerd, kubelet, kubeadm and kubectl ${plain}, then kubeadm ${mode}.
set -euo pipefail

KUBERNETES_VERSION="${plain}"
KUBERNETES_MINOR="${minor}"
KUBEADM_CONFIG="${KUBEADM_CONFIG_PATH}"
SENTINEL="${BOOTSTRAP_SENTINEL_PATH}"
IMDS="\${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
IMDS="\${IMDS%/}"

log() { echo "clusterless-bootstrap: $*" >&2; }

if [[ -f "\${SENTINEL}" ]]; then
  log "already bootstrapped"
  exit 0
fi

# Kernel modules and sysctls the kubelet and most CNI plugins need; no swap.
modprobe overlay
modprobe br_netfilter
sysctl --system >/dev/null
swapoff -a
sed -i.bak '/[[:space:]]swap[[:space:]]/ s/^\\([^#]\\)/#\\1/' /etc/fstab

install_apt() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q apt-transport-https ca-certificates curl gpg containerd
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL --retry 5 "https://pkgs.k8s.io/core:/stable:/\${KUBERNETES_MINOR}/deb/Release.key" | gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
  echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/\${KUBERNETES_MINOR}/deb/ /" >/etc/apt/sources.list.d/kubernetes.list
  apt-get update -q
  apt-get install -y -q "kubelet=\${KUBERNETES_VERSION}-*" "kubeadm=\${KUBERNETES_VERSION}-*" "kubectl=\${KUBERNETES_VERSION}-*"
  apt-mark hold kubelet kubeadm kubectl
}

install_dnf() {
  cat >/etc/yum.repos.d/kubernetes.repo <<EOF
[kubernetes]
name=Kubernetes \${KUBERNETES_MINOR}
baseurl=https://pkgs.k8s.io/core:/stable:/\${KUBERNETES_MINOR}/rpm/
enabled=1
gpgcheck=1
gpgkey=https://pkgs.k8s.io/core:/stable:/\${KUBERNETES_MINOR}/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
EOF
  dnf install -y containerd
  dnf install -y --disableexcludes=kubernetes "kubelet-\${KUBERNETES_VERSION}" "kubeadm-\${KUBERNETES_VERSION}" "kubectl-\${KUBERNETES_VERSION}"
}

if command -v apt-get >/dev/null 2>&1; then
  install_apt
elif command -v dnf >/dev/null 2>&1; then
  install_dnf
else
  log "no apt-get or dnf on this image: cannot install Kubernetes \${KUBERNETES_VERSION}"
  exit 1
fi

# containerd with the systemd cgroup driver, which kubeadm configures the kubelet with.
mkdir -p /etc/containerd
containerd config default >/etc/containerd/config.toml
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
systemctl enable containerd
systemctl restart containerd
systemctl enable kubelet

# The node's provider ID, which only the instance knows: aws:///ZONE/INSTANCE_ID (IMDSv2).
imds_token="$(curl -fsS --retry 5 -X PUT "\${IMDS}/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")"
imds() { curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: \${imds_token}" "\${IMDS}/latest/meta-data/$1"; }
instance_id="$(imds instance-id)"
zone="$(imds placement/availability-zone)"
sed -i "s|${PROVIDER_ID_PLACEHOLDER}|aws:///\${zone}/\${instance_id}|g" "\${KUBEADM_CONFIG}"

kubeadm ${mode} --config "\${KUBEADM_CONFIG}"

# The configuration holds the join token: it is not needed any more.
rm -f "\${KUBEADM_CONFIG}"
mkdir -p "$(dirname "\${SENTINEL}")"
touch "\${SENTINEL}"
log "kubeadm ${mode} succeeded"
`;
}

/** The `#cloud-config` document (the tests run `cloud-init schema` on it). */
export function renderCloudConfig(input: CloudConfigInput): string {
  const files: WriteFile[] = [
    ...(input.mode === 'init' && input.certificates ? pkiFiles(input.certificates) : []),
    { path: '/etc/modules-load.d/kubernetes.conf', content: 'overlay\nbr_netfilter\n', permissions: '0644', owner: 'root:root' },
    {
      path: '/etc/sysctl.d/99-kubernetes.conf',
      content: 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n',
      permissions: '0644',
      owner: 'root:root',
    },
    { path: KUBEADM_CONFIG_PATH, content: input.kubeadmConfig, permissions: '0600', owner: 'root:root' },
    { path: BOOTSTRAP_SCRIPT_PATH, content: bootstrapScript(input.version, input.mode), permissions: '0700', owner: 'root:root' },
  ];
  const doc = {
    write_files: files.map((f) => ({ path: f.path, owner: f.owner ?? 'root:root', permissions: f.permissions, content: f.content })),
    runcmd: [['/bin/bash', BOOTSTRAP_SCRIPT_PATH]],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
