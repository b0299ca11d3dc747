/**
 * What a machine runs, checked by the tools that run it: kubeadm's configurations by `kubeadm config validate`
 * (built from the Go module proxy), the cloud-init document by `cloud-init schema`, every shell script by
 * shellcheck. Each check is also shown to fail on a broken document, so a passing one means something.
 */
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { generateBootstrapToken, generateClusterCertificates, caCertHash } from '../../../functions/adapters/kubeadm/index.js';
import { BOOTSTRAP_DATA_PATH, boothookScript, renderUserData } from '../../../functions/bootstrap/boothook.js';
import { bootstrapScript, renderCloudConfig } from '../../../functions/bootstrap/cloud-config.js';
import {
  MIN_KUBERNETES_MINOR,
  PROVIDER_ID_PLACEHOLDER,
  UnsupportedVersionError,
  parseKubernetesVersion,
  renderInitConfiguration,
  renderJoinConfiguration,
  type KubeadmCluster,
} from '../../../functions/bootstrap/kubeadm-config.js';
import { tokenString } from '../../../functions/bootstrap/tokens.js';
import { PEM, TOKEN, cloudInitSchema, kubeadmValidate, kubeadmVersion, shellcheck } from './tools.js';

const certs = await generateClusterCertificates(new Date('2026-03-01T00:00:00Z'));
// kubeadm refuses to validate an init for a control plane older than itself: render for its own version.
const version = kubeadmVersion();
const cluster: KubeadmCluster = {
  clusterName: 'demo',
  version,
  controlPlaneEndpoint: { host: 'demo-cp-0123.elb.us-east-1.amazonaws.com', port: 6443 },
  podSubnets: ['192.168.0.0/16'],
  serviceSubnets: ['10.96.0.0/12'],
  dnsDomain: 'cluster.local',
};
const token = generateBootstrapToken();
const hash = caCertHash(certs.ca.cert);

const configs = {
  init: renderInitConfiguration(cluster, { token, ttlSeconds: 900 }),
  'worker join': renderJoinConfiguration(cluster, { token, caCertHashes: [hash] }),
  'control-plane join': renderJoinConfiguration(cluster, { token, caCertHashes: [hash], certificateKey: certs.certificateKey }),
  'tainted worker join': renderJoinConfiguration(cluster, {
    token,
    caCertHashes: [hash],
    taints: [
      { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' },
      { key: 'node.cluster.x-k8s.io/spot', effect: 'PreferNoSchedule' },
    ],
  }),
  'GPU pool worker join': renderJoinConfiguration(cluster, {
    token,
    caCertHashes: [hash],
    taints: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }],
    nodeLabels: { 'nvidia.com/gpu.present': 'true', 'node.kubernetes.io/pool': 'gpu' },
  }),
};

describe('kubeadm configuration', () => {
  it(`is validated by kubeadm ${version} built from the module proxy`, () => {
    expect(version).toMatch(/^v1\.\d+\.\d+$/);
  });

  it.each(Object.entries(configs).map(([name, text]) => ({ name, text })))('$name passes kubeadm config validate', ({ text }) => {
    const r = kubeadmValidate(text);
    expect(r.output).toContain('ok');
    expect(r.code).toBe(0);
  });

  it.each([
    { name: 'a malformed token', text: () => configs['worker join'].replace(tokenString(token), 'not-a-token') },
    { name: 'a short certificate key', text: () => configs['control-plane join'].replace(certs.certificateKey, 'abcd') },
    { name: 'an unknown field', text: () => configs.init.replace('kind: ClusterConfiguration', 'kind: ClusterConfiguration\nnotAField: 1') },
  ])('and kubeadm refuses one with $name', ({ text }) => {
    expect(kubeadmValidate(text()).code).not.toBe(0);
  });

  it('initialises with the endpoint, the networks, its own short-lived token and the provider ID to fill in', () => {
    const [init, clusterConfig] = parseAllDocuments(configs.init).map((d) => d.toJS());
    expect(init.bootstrapTokens).toEqual([
      expect.objectContaining({ token: tokenString(token), ttl: '900s', groups: ['system:bootstrappers:kubeadm:default-node-token'] }),
    ]);
    expect(init.nodeRegistration.kubeletExtraArgs).toEqual([{ name: 'provider-id', value: PROVIDER_ID_PLACEHOLDER }]);
    expect(clusterConfig).toMatchObject({
      kind: 'ClusterConfiguration',
      clusterName: 'demo',
      kubernetesVersion: version,
      controlPlaneEndpoint: 'demo-cp-0123.elb.us-east-1.amazonaws.com:6443',
      networking: { podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' },
    });
  });

  it('joins workers by token with the pinned CA hash, and control-plane machines with the certificate key', () => {
    const worker = parse(configs['worker join']);
    expect(worker.discovery.bootstrapToken).toEqual({
      apiServerEndpoint: 'demo-cp-0123.elb.us-east-1.amazonaws.com:6443',
      token: tokenString(token),
      caCertHashes: [hash],
    });
    expect(worker.controlPlane).toBeUndefined();
    expect(parse(configs['control-plane join']).controlPlane).toEqual({ localAPIEndpoint: { bindPort: 6443 }, certificateKey: certs.certificateKey });
  });

  it("registers the kubelet with its class's node labels (--node-labels, sorted), after the provider ID", () => {
    expect(parse(configs['GPU pool worker join']).nodeRegistration.kubeletExtraArgs).toEqual([
      { name: 'provider-id', value: PROVIDER_ID_PLACEHOLDER },
      { name: 'node-labels', value: 'node.kubernetes.io/pool=gpu,nvidia.com/gpu.present=true' },
    ]);
    expect(parse(configs['worker join']).nodeRegistration.kubeletExtraArgs).toEqual([{ name: 'provider-id', value: PROVIDER_ID_PLACEHOLDER }]);
  });

  it("registers the kubelet with the machine's taints, and only control-plane machines with kubeadm's control-plane taint", () => {
    expect(parse(configs['tainted worker join']).nodeRegistration.taints).toEqual([
      { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' },
      { key: 'node.cluster.x-k8s.io/spot', effect: 'PreferNoSchedule' },
    ]);
    expect(parse(configs['worker join']).nodeRegistration.taints).toBeUndefined();
    const cpTaint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
    expect(parse(configs['control-plane join']).nodeRegistration.taints).toEqual([cpTaint]);
    const taintedCp = renderJoinConfiguration(cluster, {
      token,
      caCertHashes: [hash],
      certificateKey: certs.certificateKey,
      taints: [{ key: 'dedicated', value: 'infra', effect: 'NoExecute' }],
    });
    // A taints list replaces kubeadm's default: the control-plane taint stays first.
    expect(parse(taintedCp).nodeRegistration.taints).toEqual([cpTaint, { key: 'dedicated', value: 'infra', effect: 'NoExecute' }]);
  });

  it("initializes the first control-plane machine with the ControlPlane's taints after kubeadm's control-plane taint", () => {
    const cpTaint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
    const dedicated = { key: 'dedicated', value: 'infra', effect: 'NoExecute' as const };
    // The InitConfiguration is the first document of the rendered file.
    const first = (text: string) => parseAllDocuments(text)[0]!.toJS();
    expect(first(renderInitConfiguration(cluster, { token, ttlSeconds: 900, taints: [dedicated] })).nodeRegistration.taints).toEqual([cpTaint, dedicated]);
    expect(first(configs.init).nodeRegistration.taints).toEqual([cpTaint]);
  });

  it.each(['v1.30.4', '1.31', 'v2.0.0', 'latest'])('refuses Kubernetes %s (kubeadm v1beta4 needs v1.31 or newer)', (v) => {
    expect(() => parseKubernetesVersion(v)).toThrow(UnsupportedVersionError);
    expect(MIN_KUBERNETES_MINOR).toBe(31);
  });
});

describe('cloud-init document', () => {
  const init = renderCloudConfig({ version, mode: 'init', kubeadmConfig: configs.init, certificates: certs });
  const join = renderCloudConfig({ version, mode: 'join', kubeadmConfig: configs['control-plane join'] });

  it.each([
    { name: 'init', doc: init },
    { name: 'join', doc: join },
  ])('$name passes cloud-init schema', ({ doc }) => {
    const r = cloudInitSchema(doc);
    expect(r.output).toContain('Valid cloud-config');
    expect(r.code).toBe(0);
  });

  it('and cloud-init schema refuses a broken one', () => {
    expect(cloudInitSchema(init.replace('runcmd:', 'runcmd: 5\nx_runcmd:')).code).not.toBe(0);
    expect(cloudInitSchema(init.replace('permissions: "0600"', 'permissions: [1]')).code).not.toBe(0);
  });

  it('writes the CAs (keys root-only) only on the machine that initialises', () => {
    const files = parse(init.replace(/^#cloud-config\n/, '')).write_files as { path: string; permissions: string; content: string }[];
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const name of ['ca', 'front-proxy-ca', 'etcd/ca']) {
      expect(byPath.get(`/etc/kubernetes/pki/${name}.key`)?.permissions).toBe('0600');
      expect(byPath.get(`/etc/kubernetes/pki/${name}.crt`)?.permissions).toBe('0644');
    }
    expect(byPath.get('/etc/kubernetes/pki/sa.key')?.content).toBe(certs.serviceAccount.key);
    expect(byPath.get('/run/kubeadm/kubeadm.yaml')?.permissions).toBe('0600');
    expect(join).not.toMatch(PEM);
  });

  it.each([{ mode: 'init' as const }, { mode: 'join' as const }])(
    'runs a $mode script that passes shellcheck and installs containerd and kubelet, kubeadm, kubectl of the version',
    ({ mode }) => {
      const script = bootstrapScript(version, mode);
      const r = shellcheck(script);
      expect(r.output).toBe('');
      expect(r.code).toBe(0);
      const plain = version.slice(1);
      const minor = version.split('.').slice(0, 2).join('.');
      expect(script).toContain(`https://pkgs.k8s.io/core:/stable:/\${KUBERNETES_MINOR}/deb/`);
      expect(script).toContain(`KUBERNETES_VERSION="${plain}"`);
      expect(script).toContain(`KUBERNETES_MINOR="${minor}"`);
      expect(script).toContain('"kubelet=${KUBERNETES_VERSION}-*" "kubeadm=${KUBERNETES_VERSION}-*" "kubectl=${KUBERNETES_VERSION}-*"');
      expect(script).toContain('containerd');
      expect(script).toContain(`kubeadm ${mode} --config "\${KUBEADM_CONFIG}"`);
    },
  );

  it('and shellcheck refuses a broken script', () => {
    expect(shellcheck(bootstrapScript(version, 'join').replace('"${KUBEADM_CONFIG}"', '$KUBEADM_CONFIG $undefined_thing')).code).not.toBe(0);
  });
});

describe('user data', () => {
  const secretId = 'clusterless/default/demo/machines/2b5f0d3e-7a1c-4c55-9e58-3f1d9c0a4b21';
  const userData = renderUserData({ secretId, region: 'us-east-1' });

  it('is a multipart document: the boothook, then the include of the file it writes', () => {
    const boundary = /boundary="([^"]+)"/.exec(userData)![1]!;
    const parts = userData.split(`--${boundary}`).slice(1, -1);
    expect(parts.map((p) => /Content-Type: ([^;\r\n]+)/.exec(p)![1])).toEqual(['text/cloud-boothook', 'text/x-include-url']);
    expect(parts[1]).toContain(`file://${BOOTSTRAP_DATA_PATH}`);
    expect(userData.endsWith(`--${boundary}--\r\n`)).toBe(true);
  });

  it('has a boothook that passes shellcheck and names only the secret and region', () => {
    const script = boothookScript({ secretId, region: 'us-east-1' });
    const r = shellcheck(script);
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(script).toContain(`SECRET_ID="${secretId}"`);
  });

  it('holds no key, certificate or token', () => {
    expect(userData).not.toMatch(PEM);
    expect(userData).not.toMatch(TOKEN);
    expect(userData).not.toContain(certs.certificateKey);
    expect(Buffer.byteLength(userData)).toBeLessThan(16 * 1024);
  });

  it('refuses a secret id that would break out of the script', () => {
    expect(() => boothookScript({ secretId: 'x"; rm -rf /; "', region: 'us-east-1' })).toThrow(RangeError);
  });
});
