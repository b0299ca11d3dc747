/** Synthesizes the CDK app as `cdk synth` does (cdk.json's feature flags), without bundling unless asked. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp, type ClusterlessApp } from '../../infra/app.js';
import { ControlPlaneStack, type ControlPlaneStackProps } from '../../infra/control-plane-stack.js';
import { REPO_ROOT } from '../../infra/constructs/handler-function.js';

/** The context of cdk.json: the feature flags `cdk init` sets for this CDK version. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export interface SynthOptions {
  /** Run esbuild for every function (slow); otherwise assets are staged without bundling. @default false */
  bundle?: boolean;
  context?: Record<string, unknown>;
  /** Where the cloud assembly goes. @default - a temporary directory */
  outdir?: string;
}

/** A fresh app with the control plane (and what the context asks for), checked by cdk-nag when synthesized. */
export function newApp(options: SynthOptions = {}): ClusterlessApp {
  return createApp({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...options.context },
  });
}

/** The control plane's template (synthesizing the app runs cdk-nag: a finding throws here). */
export function controlPlaneTemplate(options: SynthOptions = {}): { app: ClusterlessApp; template: Template } {
  const app = newApp(options);
  return { app, template: Template.fromStack(app.controlPlane) };
}

/**
 * A control plane with stack props in an app of its own, without bundling and without cdk-nag (for constructs a
 * test adds, such as the roles of API callers), and its template once `extend` has added to it.
 */
export function controlPlaneStack(
  props: ControlPlaneStackProps = {},
  extend?: (stack: ControlPlaneStack) => void,
): { stack: ControlPlaneStack; template: Template } {
  const stack = new ControlPlaneStack(new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } }), 'Clusterless', props);
  extend?.(stack);
  return { stack, template: Template.fromStack(stack) };
}

export type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: unknown }>;

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | unknown): string {
  const c = construct as { node: { defaultChild?: unknown } };
  const child = (c.node.defaultChild ?? construct) as Parameters<Stack['getLogicalId']>[0];
  return stack.getLogicalId(child);
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

/** Every statement of the identity policies attached to a role (by the role's logical id). */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties['Roles']).includes(`"${roleLogicalId}"`))
    .flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
