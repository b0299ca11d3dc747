/**
 * The installation: one store and everything clusterless made for it in a cloud account (instances and their
 * volumes, load balancers, target groups, secrets). Every such resource carries the installation's id in the tag
 * `clusterless.dev/installation` (TagKeys.installation), so that two installations in one account and region, or
 * `clusterless up` with a fresh data folder, never take each other's resources for their own: describes filter
 * on it, and on AWS the IAM conditions on terminate, delete and deregister require it.
 *
 * Where the id comes from: on AWS the stack sets it (INSTALLATION_ENV, the stack's own unique id, known to the IAM
 * policies at deploy time); on the embedded host it is written once into the store of the data folder.
 */

/** The environment variables the AWS stack sets for the functions (infra/control-plane-stack.ts). */
export const INSTALLATION_ENV = {
  /** The installation id. */
  id: 'INSTALLATION_ID',
  /**
   * JSON `{"control-plane": ARN, "worker": ARN}`: the instance profiles of the node roles the stack made, used when
   * a MachineClass names no iamInstanceProfile (the provision task may pass these roles only).
   */
  nodeInstanceProfiles: 'NODE_INSTANCE_PROFILES',
  /** `arn:{partition}:ec2:{region}:{account}:instance/`: a node's bootstrap secret is bound to its instance's ARN. */
  instanceArnPrefix: 'INSTANCE_ARN_PREFIX',
} as const;

/** What an installation id may look like: a tag value, a secret-name segment and an ELBv2 name hash input. */
export const INSTALLATION_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/;

export function checkInstallationId(id: string): string {
  if (!INSTALLATION_ID_PATTERN.test(id)) throw new RangeError(`not an installation id: ${JSON.stringify(id)} (8 to 64 letters, digits and dashes)`);
  return id;
}
