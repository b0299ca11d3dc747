/**
 * The user data of a machine: no secret, only a cloud-init boothook that fetches the machine's bootstrap
 * secret from Secrets Manager, writes it to a root-only file, deletes the secret and restarts cloud-init, and
 * an include part that makes cloud-init run that file. Learnt from Cluster API AWS
 * (pkg/cloud/services/secretsmanager/cloudinit.go: the multipart document with a text/cloud-boothook part and
 * a text/x-include-url part for file:///etc/secret-userdata.txt; secret_fetch_script.go: skip when the file
 * exists, fetch, delete, restart cloud-init), written anew. Unlike CAPA's it needs no AWS CLI on the image:
 * the two Secrets Manager calls are signed (SigV4) with curl and openssl from the instance role's IMDSv2
 * credentials, so stock Ubuntu and Amazon Linux images work.
 */

/** Where the boothook writes the bootstrap data (root only); the include part names it. */
export const BOOTSTRAP_DATA_PATH = '/etc/clusterless/bootstrap-userdata.txt';

export interface BoothookInput {
  /** The name of the machine's secret in Secrets Manager. */
  secretId: string;
  region: string;
}

const SAFE = /^[A-Za-z0-9/_+=.@-]+$/;

/**
 * The boothook script. The endpoints follow the SDKs' variables (AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * AWS_ENDPOINT_URL, AWS_EC2_METADATA_SERVICE_ENDPOINT) and the file CLUSTERLESS_BOOTSTRAP_FILE, so that it can
 * run against emulators; cloud-init sets none of them.
 */
export function boothookScript(input: BoothookInput): string {
  if (!SAFE.test(input.secretId)) throw new RangeError(`secret id ${input.secretId} has characters a secret name cannot have`);
  if (!/^[a-z0-9-]+$/.test(input.region)) throw new RangeError(`not a region: ${input.region}`);
  return `#!/bin/bash
# clusterless: fetch this machine's bootstrap data from AWS Secrets Manager, then delete the secret.
set -euo pipefail
umask 077

REGION="${input.region}"
SECRET_ID="${input.secretId}"
FILE="\${CLUSTERLESS_BOOTSTRAP_FILE:-${BOOTSTRAP_DATA_PATH}}"
ENDPOINT="\${AWS_ENDPOINT_URL_SECRETS_MANAGER:-\${AWS_ENDPOINT_URL:-https://secretsmanager.\${REGION}.amazonaws.com}}"
ENDPOINT="\${ENDPOINT%/}"
IMDS="\${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
IMDS="\${IMDS%/}"

log() { echo "clusterless-boothook: $*" >&2; }

# A boothook runs on every boot; the data is fetched once.
if [[ -s "\${FILE}" ]]; then
  log "bootstrap data already on disk"
  exit 0
fi

sha256_hex() { openssl dgst -sha256 -hex | awk '{print $NF}'; }
hmac_hex() { printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -hex | awk '{print $NF}'; }
to_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \\n'; }
json_field() { sed -n "s/.*\\"$1\\"[[:space:]]*:[[:space:]]*\\"\\([^\\"]*\\)\\".*/\\1/p" | head -n 1; }

# The instance role's credentials, from the instance metadata (IMDSv2).
credentials() {
  local token role
  token="$(curl -fsS -X PUT "\${IMDS}/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")"
  role="$(curl -fsS -H "X-aws-ec2-metadata-token: \${token}" "\${IMDS}/latest/meta-data/iam/security-credentials/" | head -n 1)"
  [[ -n "\${role}" ]] || return 1
  CREDENTIALS="$(curl -fsS -H "X-aws-ec2-metadata-token: \${token}" "\${IMDS}/latest/meta-data/iam/security-credentials/\${role}")"
  ACCESS_KEY_ID="$(printf '%s' "\${CREDENTIALS}" | json_field AccessKeyId)"
  SECRET_ACCESS_KEY="$(printf '%s' "\${CREDENTIALS}" | json_field SecretAccessKey)"
  SESSION_TOKEN="$(printf '%s' "\${CREDENTIALS}" | json_field Token)"
  [[ -n "\${ACCESS_KEY_ID}" && -n "\${SECRET_ACCESS_KEY}" ]]
}

# One Secrets Manager call (JSON 1.1 protocol), signed with AWS Signature Version 4.
call() {
  local target="$1" body="$2" host amz_date day scope canonical signed_headers string_to_sign key signature
  host="\${ENDPOINT#*://}"
  host="\${host%%/*}"
  amz_date="$(date -u +%Y%m%dT%H%M%SZ)"
  day="\${amz_date%%T*}"
  scope="\${day}/\${REGION}/secretsmanager/aws4_request"
  signed_headers="content-type;host;x-amz-date;x-amz-target"
  local headers="content-type:application/x-amz-json-1.1
host:\${host}
x-amz-date:\${amz_date}
"
  if [[ -n "\${SESSION_TOKEN}" ]]; then
    signed_headers="content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
    headers+="x-amz-security-token:\${SESSION_TOKEN}
"
  fi
  headers+="x-amz-target:secretsmanager.\${target}
"
  canonical="POST
/

\${headers}
\${signed_headers}
$(printf '%s' "\${body}" | sha256_hex)"
  string_to_sign="AWS4-HMAC-SHA256
\${amz_date}
\${scope}
$(printf '%s' "\${canonical}" | sha256_hex)"
  key="$(hmac_hex "$(to_hex "AWS4\${SECRET_ACCESS_KEY}")" "\${day}")"
  key="$(hmac_hex "\${key}" "\${REGION}")"
  key="$(hmac_hex "\${key}" "secretsmanager")"
  key="$(hmac_hex "\${key}" "aws4_request")"
  signature="$(hmac_hex "\${key}" "\${string_to_sign}")"
  local args=(-fsS -X POST "\${ENDPOINT}/"
    -H "Content-Type: application/x-amz-json-1.1"
    -H "X-Amz-Date: \${amz_date}"
    -H "X-Amz-Target: secretsmanager.\${target}"
    -H "Authorization: AWS4-HMAC-SHA256 Credential=\${ACCESS_KEY_ID}/\${scope}, SignedHeaders=\${signed_headers}, Signature=\${signature}"
    --data-binary "\${body}")
  if [[ -n "\${SESSION_TOKEN}" ]]; then
    args+=(-H "X-Amz-Security-Token: \${SESSION_TOKEN}")
  fi
  curl "\${args[@]}"
}

# The instance profile's credentials can take a moment to appear after boot: retry for about five minutes.
response=""
for attempt in $(seq 1 30); do
  if credentials && response="$(call GetSecretValue "{\\"SecretId\\":\\"\${SECRET_ID}\\"}")"; then
    break
  fi
  response=""
  log "attempt \${attempt}: could not get the bootstrap secret yet"
  sleep 10
done
if [[ -z "\${response}" ]]; then
  log "giving up: the bootstrap secret \${SECRET_ID} could not be read"
  exit 1
fi

mkdir -p "$(dirname "\${FILE}")"
printf '%s' "\${response}" | json_field SecretBinary | sed 's#\\\\/#/#g' | base64 -d >"\${FILE}.tmp"
mv "\${FILE}.tmp" "\${FILE}"
log "bootstrap data written to \${FILE}"

# Nobody else may read it again; the control plane deletes what is left should this fail.
if ! call DeleteSecret "{\\"SecretId\\":\\"\${SECRET_ID}\\",\\"ForceDeleteWithoutRecovery\\":true}" >/dev/null; then
  log "could not delete the bootstrap secret; the control plane will"
fi

if [[ -z "\${CLUSTERLESS_BOOTSTRAP_FILE:-}" ]]; then
  # cloud-init read the include part before this file existed: run it again, now with the data.
  systemctl restart cloud-init
fi
`;
}

const CRLF = '\r\n';

/** The multipart user data: the boothook, then the include of the file it writes. Deterministic boundary. */
export function renderUserData(input: BoothookInput): string {
  const boundary = 'clusterless-bootstrap-boundary';
  const part = (type: string, body: string) =>
    [`--${boundary}`, `Content-Type: ${type}; charset="us-ascii"`, 'MIME-Version: 1.0', 'Content-Transfer-Encoding: 7bit', '', body].join(CRLF);
  return [
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    part('text/cloud-boothook', boothookScript(input)),
    part('text/x-include-url', `file://${BOOTSTRAP_DATA_PATH}\n`),
    `--${boundary}--`,
    '',
  ].join(CRLF);
}
