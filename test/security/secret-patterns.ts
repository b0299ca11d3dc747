/**
 * What a leaked secret looks like: PEM blocks (private keys above all), AWS access key ids and secret keys,
 * kubeadm bootstrap tokens, and any known secret value of the run (a bearer token, a test credential).
 */
export interface SecretFinding {
  pattern: string;
  where: string;
  excerpt: string;
}

export const SECRET_PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'PEM block', re: /-----BEGIN [A-Z0-9 ]+-----/g },
  { name: 'AWS access key id', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/g },
  { name: 'AWS secret key field', re: /aws_?secret_?access_?key/gi },
  { name: 'kubeadm bootstrap token', re: /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g },
  { name: 'bearer credential', re: /\bBearer\s+[A-Za-z0-9._~+/-]{8,}/g },
];

/** Every secret-looking thing in `text`, plus every occurrence of a known secret value. */
export function findSecrets(text: string, where: string, known: readonly string[] = []): SecretFinding[] {
  const out: SecretFinding[] = [];
  const excerpt = (i: number, len: number) => text.slice(Math.max(0, i - 30), i + len + 30).replace(/\s+/g, ' ');
  for (const { name, re } of SECRET_PATTERNS)
    for (const m of text.matchAll(re)) out.push({ pattern: name, where, excerpt: excerpt(m.index ?? 0, m[0].length) });
  for (const secret of known) {
    if (!secret) continue;
    for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1))
      out.push({ pattern: 'known secret', where, excerpt: excerpt(i, secret.length) });
  }
  return out;
}
