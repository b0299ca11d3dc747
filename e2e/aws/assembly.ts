/**
 * The cloud assembly the emulated account deploys: the control plane of infra/app.ts synthesized with cdk.json's context
 * and the local esbuild, as `cdk synth` writes it, plus the roles of the API's callers a user's app would add
 * (HttpApi.grantNamespaces): two teams, each writing its own namespace, a reader of one namespace, and a controller
 * of one namespace (writes and status).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DEFAULT_STACK_NAME } from '../../infra/app.js';
import { ControlPlaneStack, type ControlPlaneStackProps } from '../../infra/control-plane-stack.js';
import { REPO_ROOT } from '../../infra/constructs/handler-function.js';
import type { TemplateJson } from './template.js';

/** The API callers of the scenario: logical id of the role, and what it is granted. */
export const CALLERS = {
  TeamAWriter: { namespaces: ['team-a'], access: 'write', kubeconfig: true },
  TeamBWriter: { namespaces: ['team-b'], access: 'write', kubeconfig: true },
  TeamAReader: { namespaces: ['team-a'], access: 'read' },
  // Writes team-a and its status: what `clusterless import` and `clusterless move` need (api/access-entries.ts mayTransfer).
  TeamAController: { namespaces: ['team-a'], access: 'write', status: true },
} as const;
export type CallerName = keyof typeof CALLERS;

export interface Assembly {
  directory: string;
  stackName: string;
  template: TemplateJson;
  /** The folder of each Lambda function's bundle (index.mjs), by logical id. */
  bundles: Record<string, string>;
  /** The logical id of each caller's role. */
  callerRoles: Record<CallerName, string>;
}

const callerDescription = (name: CallerName) => `e2e: API caller ${name}`;

export const DEFAULT_ASSEMBLY_DIR = join(REPO_ROOT, 'cdk.out', 'e2e-aws');

function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

/**
 * Synthesizes the app into `outdir` (bundling every function with esbuild) and reads what the account deploys;
 * `controlPlane` adds the optional parts the app context turns on (e.g. the mirror).
 */
export function synthesize(outdir = DEFAULT_ASSEMBLY_DIR, options: { bundle?: boolean; controlPlane?: ControlPlaneStackProps } = {}): Assembly {
  // infra/app.ts's control plane, without its cdk-nag validation: the template is the same (nag only reads it, and
  // test/infra/nag.test.ts holds the app to it), and the callers' roles are the user's, not the control plane's.
  const app = new App({
    outdir: resolve(outdir),
    context: { ...cdkJsonContext(), 'aws:cdk:enable-asset-metadata': true, ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  });
  const controlPlane = new ControlPlaneStack(app, DEFAULT_STACK_NAME, options.controlPlane);
  const callerRoles = {} as Record<CallerName, string>;
  for (const [name, grant] of Object.entries(CALLERS) as [CallerName, (typeof CALLERS)[CallerName]][]) {
    const role = new iam.Role(controlPlane, name, { assumedBy: new iam.AccountPrincipal(controlPlane.account), description: callerDescription(name) });
    controlPlane.httpApi.grantNamespaces(role, { ...grant, namespaces: [...grant.namespaces] });
    callerRoles[name] = controlPlane.getLogicalId(role.node.defaultChild as never);
  }
  const assembly = app.synth();
  const stack = assembly.getStackByName(controlPlane.stackName);
  const template = stack.template as TemplateJson;
  const bundles: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const path = r.Metadata?.['aws:asset:path'];
    if (typeof path === 'string') bundles[id] = join(assembly.directory, path);
  }
  return { directory: assembly.directory, stackName: controlPlane.stackName, template, bundles, callerRoles };
}

/**
 * An assembly synthesize() wrote before (a second run on the same sources: `npm run e2e:aws -- --reuse-assembly`),
 * or undefined when there is none.
 */
export function readAssembly(directory = DEFAULT_ASSEMBLY_DIR, stackName = DEFAULT_STACK_NAME): Assembly | undefined {
  const file = join(directory, `${stackName}.template.json`);
  if (!existsSync(file)) return undefined;
  const template = JSON.parse(readFileSync(file, 'utf8')) as TemplateJson;
  const bundles: Record<string, string> = {};
  const callerRoles = {} as Record<CallerName, string>;
  for (const [id, r] of Object.entries(template.Resources)) {
    const path = r.Metadata?.['aws:asset:path'];
    if (r.Type === 'AWS::Lambda::Function' && typeof path === 'string') bundles[id] = join(directory, path);
    for (const name of Object.keys(CALLERS) as CallerName[])
      if (r.Type === 'AWS::IAM::Role' && r.Properties?.['Description'] === callerDescription(name)) callerRoles[name] = id;
  }
  return { directory, stackName, template, bundles, callerRoles };
}
