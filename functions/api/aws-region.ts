/** An AWS region name (us-east-1, us-gov-west-1, us-iso-east-1): the shape the provider, the token and its authorizer check. */
export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
