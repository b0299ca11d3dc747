/** The EC2 MachineProvider: launch with tags and fallback, adopt by machine uid, describe by cluster tag. */
export { Ec2MachineProvider, IMDS_HOP_LIMIT, attemptToken, type Ec2MachineProviderOptions } from './ec2-machine-provider.js';
export { imageParameterResolver, type ImageParameterResolverOptions } from './image-parameter.js';
export { LIVE_STATES, machineTags } from './instance-tags.js';
export { Ec2ClusterHandover } from './cluster-handover.js';
// What its users imported from here before the AWS adapters shared them (aws/).
export { createEc2Client, createSsmClient } from '../aws/clients.js';
export { CAPACITY_CODES, errorCode, toProviderError } from '../aws/errors.js';
export { TagKeys, clusterTagValue, kubernetesClusterTagKey } from '../aws/tags.js';
