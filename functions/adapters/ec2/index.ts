/** The EC2 MachineProvider: launch with tags and fallback, adopt by machine uid, describe by cluster tag. */
export { Ec2MachineProvider, IMDS_HOP_LIMIT, attemptToken, type Ec2MachineProviderOptions } from './ec2-machine-provider.js';
export { createEc2Client } from './client.js';
export { createSsmClient, imageParameterResolver, type ImageParameterResolverOptions } from './image-parameter.js';
export { CAPACITY_CODES, errorCode, toProviderError } from './errors.js';
export { LIVE_STATES, TagKeys, clusterTagValue, kubernetesClusterTagKey, machineTags } from './tags.js';
