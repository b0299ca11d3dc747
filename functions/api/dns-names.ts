/** Kubernetes' RFC 1123 name rules (apimachinery validation), restated; no zod, so a function can check a name cheaply. */

/** RFC 1123 label: what Kubernetes accepts as a namespace or a name of these kinds. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain, used as the optional prefix of label and annotation keys. */
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;

/** Why `s` is not an RFC 1123 label of at most 63 characters, or undefined when it is one. */
export function dnsLabelError(s: string): string | undefined {
  if (s.length === 0) return 'must not be empty';
  if (s.length > DNS1123_LABEL_MAX) return `must be no more than ${DNS1123_LABEL_MAX} characters`;
  if (!DNS1123_LABEL.test(s))
    return "must be a lowercase RFC 1123 label: lower case letters, digits and '-', starting and ending with a letter or digit (e.g. 'my-name' or 'web-1')";
  return undefined;
}

export function dnsSubdomainError(s: string): string | undefined {
  if (s.length === 0) return 'must not be empty';
  if (s.length > DNS1123_SUBDOMAIN_MAX) return `must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`;
  if (!DNS1123_SUBDOMAIN.test(s))
    return "must be a lowercase RFC 1123 subdomain: labels of lower case letters, digits and '-' separated by '.' (e.g. 'example.com')";
  return undefined;
}
