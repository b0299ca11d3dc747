/** New kubeadm bootstrap tokens, drawn with node:crypto's randomness (their format: bootstrap/tokens.ts). */
import { randomInt } from 'node:crypto';
import { BOOTSTRAP_TOKEN_ALPHABET, type BootstrapToken } from '../../bootstrap/tokens.js';

const randomString = (n: number) => Array.from({ length: n }, () => BOOTSTRAP_TOKEN_ALPHABET[randomInt(BOOTSTRAP_TOKEN_ALPHABET.length)]).join('');

export function generateBootstrapToken(): BootstrapToken {
  return { id: randomString(6), secret: randomString(16) };
}
