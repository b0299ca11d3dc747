/**
 * Accelerated EC2 instance types and their images: which families carry an accelerator, the public SSM parameter
 * of an image with its driver, and whether an image parameter names an accelerated (or a Windows) image. Families
 * from the EC2 instance types guide (accelerated computing); the NVIDIA image is AWS's Deep Learning Base OSS
 * Nvidia Driver GPU AMI (Ubuntu 22.04), whose release notes list the families it supports (G4dn, G5, G6, Gr6,
 * G6e, P4d, P4de, P5, P5e, P5en, P6-B200) and which is Ubuntu, as clusterless's default image, so the kubeadm
 * bootstrap (functions/bootstrap/cloud-config.ts) runs on it unchanged.
 */

export type Accelerator = 'nvidia' | 'neuron' | 'other';

/** Families by accelerator; a family is the instance type before its dot (g5.xlarge: g5). */
const FAMILIES: Record<Accelerator, readonly string[]> = {
  nvidia: [
    'p2',
    'p3',
    'p3dn',
    'p4d',
    'p4de',
    'p5',
    'p5e',
    'p5en',
    'p6-b200',
    'p6-b300',
    'g3',
    'g3s',
    'g4dn',
    'g5',
    'g5g',
    'g6',
    'g6e',
    'g6f',
    'gr6',
    'gr6f',
    'g7',
  ],
  // AWS Inferentia and Trainium.
  neuron: ['inf1', 'inf2', 'trn1', 'trn1n', 'trn2'],
  // AMD Radeon, Habana Gaudi, Qualcomm, FPGAs, video transcoders: no default image.
  other: ['g4ad', 'dl1', 'dl2q', 'f1', 'f2', 'vt1'],
};

const BY_FAMILY = new Map(Object.entries(FAMILIES).flatMap(([accelerator, families]) => families.map((f) => [f, accelerator as Accelerator])));

/** The accelerator of an instance type, or undefined for one without. */
export function acceleratorOf(instanceType: string): Accelerator | undefined {
  return BY_FAMILY.get(instanceType.split('.')[0] ?? '');
}

/** NVIDIA families on Graviton (arm64): the x86_64 image cannot boot them. */
const ARM64_NVIDIA = new Set(['g5g']);

/**
 * The image an NVIDIA class without one gets: AWS's public parameter of the Deep Learning Base OSS Nvidia Driver
 * GPU AMI for Ubuntu 22.04 on x86_64 (AWS Deep Learning AMI developer guide, "Query AMI-ID with SSM parameter").
 */
export const NVIDIA_IMAGE_SSM_PARAMETER = '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id';

/** The default image parameter for these instance types, or undefined when there is none to give. */
export function acceleratedImageParameter(instanceTypes: readonly string[]): string | undefined {
  const nvidiaX86 = instanceTypes.every((t) => acceleratorOf(t) === 'nvidia' && !ARM64_NVIDIA.has(t.split('.')[0] ?? ''));
  return instanceTypes.length > 0 && nvidiaX86 ? NVIDIA_IMAGE_SSM_PARAMETER : undefined;
}

/** Whether an image parameter names an accelerated image (a GPU or Neuron driver in it), by AWS's naming. */
export function isAcceleratedImageParameter(name: string): boolean {
  return /(^|[/_-])(nvidia|gpu|neuron|deeplearning|accelerated)([/_-]|$)/i.test(name);
}

/** Whether an image parameter names a Windows image (AWS publishes them under ami-windows-latest, EKS under .../windows...). */
export function isWindowsImageParameter(name: string): boolean {
  return /windows/i.test(name);
}
