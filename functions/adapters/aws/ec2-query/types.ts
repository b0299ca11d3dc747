/**
 * The inputs and outputs of the EC2 operations clusterless calls, with the SDK's member names (the EC2 API
 * reference's) and only the members we send or read. A member the wire carries and these types leave out is
 * dropped when a response is read.
 */

export interface Filter {
  Name?: string;
  Values?: string[];
}

export interface Tag {
  Key?: string;
  Value?: string;
}

export interface TagSpecification {
  /** instance, volume, network-interface, spot-instances-request... */
  ResourceType?: string;
  Tags?: Tag[];
}

export interface BlockDeviceMapping {
  DeviceName?: string;
  Ebs?: { VolumeSize?: number; VolumeType?: string; Encrypted?: boolean; DeleteOnTermination?: boolean; KmsKeyId?: string };
}

export interface RunInstancesInput {
  MinCount: number;
  MaxCount: number;
  ImageId?: string;
  InstanceType?: string;
  ClientToken?: string;
  SubnetId?: string;
  SecurityGroupIds?: string[];
  KeyName?: string;
  IamInstanceProfile?: { Arn?: string; Name?: string };
  BlockDeviceMappings?: BlockDeviceMapping[];
  MetadataOptions?: { HttpTokens?: 'required' | 'optional'; HttpEndpoint?: 'enabled' | 'disabled'; HttpPutResponseHopLimit?: number };
  InstanceMarketOptions?: {
    MarketType?: 'spot' | 'capacity-block';
    SpotOptions?: {
      SpotInstanceType?: 'one-time' | 'persistent';
      InstanceInterruptionBehavior?: 'terminate' | 'stop' | 'hibernate';
      MaxPrice?: string;
    };
  };
  /** Base64, as EC2 takes it. */
  UserData?: string;
  TagSpecifications?: TagSpecification[];
}

export interface Instance {
  InstanceId?: string;
  ImageId?: string;
  InstanceType?: string;
  State?: { Code?: number; Name?: string };
  LaunchTime?: Date;
  Placement?: { AvailabilityZone?: string };
  SubnetId?: string;
  VpcId?: string;
  PrivateIpAddress?: string;
  PublicIpAddress?: string;
  PrivateDnsName?: string;
  PublicDnsName?: string;
  KeyName?: string;
  IamInstanceProfile?: { Arn?: string; Id?: string };
  Tags?: Tag[];
}

export interface Reservation {
  ReservationId?: string;
  OwnerId?: string;
  Instances?: Instance[];
}

export interface RunInstancesOutput extends Reservation {}

export interface DescribeInstancesInput {
  InstanceIds?: string[];
  Filters?: Filter[];
  /** 5 to 1000; not with InstanceIds. */
  MaxResults?: number;
  NextToken?: string;
}

export interface DescribeInstancesOutput {
  Reservations?: Reservation[];
  NextToken?: string;
}

export interface TerminateInstancesInput {
  InstanceIds: string[];
}

export interface InstanceStateChange {
  InstanceId?: string;
  CurrentState?: { Code?: number; Name?: string };
  PreviousState?: { Code?: number; Name?: string };
}

export interface TerminateInstancesOutput {
  TerminatingInstances?: InstanceStateChange[];
}

export interface DescribeImagesInput {
  ImageIds?: string[];
  Owners?: string[];
  Filters?: Filter[];
}

export interface Image {
  ImageId?: string;
  Name?: string;
  OwnerId?: string;
  State?: string;
  Architecture?: string;
  RootDeviceName?: string;
  RootDeviceType?: string;
  CreationDate?: string;
}

export interface DescribeImagesOutput {
  Images?: Image[];
}

export interface DescribeSubnetsInput {
  SubnetIds?: string[];
  Filters?: Filter[];
}

export interface Subnet {
  SubnetId?: string;
  VpcId?: string;
  AvailabilityZone?: string;
  CidrBlock?: string;
  Tags?: Tag[];
}

export interface DescribeSubnetsOutput {
  Subnets?: Subnet[];
}

export interface DescribeTagsInput {
  Filters?: Filter[];
  MaxResults?: number;
  NextToken?: string;
}

export interface TagDescription {
  ResourceId?: string;
  ResourceType?: string;
  Key?: string;
  Value?: string;
}

export interface DescribeTagsOutput {
  Tags?: TagDescription[];
  NextToken?: string;
}

export interface CreateTagsInput {
  /** Instance, volume... ids; one request takes up to 1000. */
  Resources: string[];
  Tags: Tag[];
}

export type CreateTagsOutput = Record<string, never>;

/** Every operation of the client, its input and its output. */
export interface Ec2Operations {
  RunInstances: { input: RunInstancesInput; output: RunInstancesOutput };
  DescribeInstances: { input: DescribeInstancesInput; output: DescribeInstancesOutput };
  TerminateInstances: { input: TerminateInstancesInput; output: TerminateInstancesOutput };
  DescribeImages: { input: DescribeImagesInput; output: DescribeImagesOutput };
  DescribeSubnets: { input: DescribeSubnetsInput; output: DescribeSubnetsOutput };
  DescribeTags: { input: DescribeTagsInput; output: DescribeTagsOutput };
  CreateTags: { input: CreateTagsInput; output: CreateTagsOutput };
}

export type Ec2Operation = keyof Ec2Operations;
