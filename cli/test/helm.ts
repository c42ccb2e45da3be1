/**
 * The Helm chart (helm/replicant) under test: the pinned Helm binary (scripts/go-tools.txt, built
 * by scripts/install-go-tool.sh and cached), `helm template` parsed into objects, and validation of
 * every object against the Kubernetes OpenAPI schemas that npm `kubernetes-models` ships (the
 * Kubernetes 1.34 API; ServiceMonitor from @kubernetes-models/prometheus-operator). Nothing is
 * fetched at run time.
 *
 * The schema validators accept fields the API does not have (they allow additional properties),
 * while the API server refuses them (strict field validation). `unknownFields` closes that gap with
 * the same package's TypeScript types: every object becomes an object literal of its kind's type,
 * and the compiler's excess-property check names any field the type lacks, at any depth.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import ts from 'typescript';
import * as coreV1 from 'kubernetes-models/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const CHART = join(ROOT, 'helm', 'replicant');
export const PRODUCTION_VALUES = join(CHART, 'ci', 'production-values.yaml');

/** the least a cluster-mode install must give (the schema refuses it without brokers and Redis) */
export const REQUIRED_CLUSTER_SETS = ['kafka.brokers={my-cluster-kafka-bootstrap.kafka.svc:9092}', 'redis.url=redis://redis-master.redis.svc:6379'];

let binary: string | undefined;
/** the pinned Helm, built from the Go module proxy on first use */
export function helmBinary(): string {
  binary ??= execFileSync('bash', [join(ROOT, 'scripts', 'install-go-tool.sh'), 'helm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return binary;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm` without blocking the event loop (for tests that serve something Helm calls) */
export function helmAsync(args: string[]): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(helmBinary(), args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
      resolve({ status: code, stdout, stderr });
    });
  });
}

export interface RenderOptions {
  files?: string[];
  sets?: string[];
  release?: string;
  namespace?: string;
  /** more `helm template` flags (e.g. --kubeconfig, --dry-run=server) */
  extraArgs?: string[];
}

/** `helm template` arguments for a render */
export function templateArgs(o: RenderOptions = {}): string[] {
  const args = ['template', o.release ?? 'rt', CHART, '--namespace', o.namespace ?? 'replicant'];
  for (const f of o.files ?? []) args.push('-f', f);
  for (const s of o.sets ?? []) args.push('--set', s);
  args.push(...(o.extraArgs ?? []));
  return args;
}

/** A Kubernetes object as rendered (only what the tests read is typed). */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

/** renders the chart and parses every document; throws with Helm's message when it fails */
export function render(o: RenderOptions = {}): K8sObject[] {
  const r = helm(templateArgs(o));
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    if (doc.errors.length > 0) throw new Error(`helm template printed invalid YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj !== null) out.push(obj);
  }
  return out;
}

type Model = new (data: unknown) => { validate(): void };
/** the import path of each apiVersion's models */
const MODEL_PATHS: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'policy/v1': policyV1,
  'autoscaling/v2': autoscalingV2,
  'networking.k8s.io/v1': networkingV1,
  'monitoring.coreos.com/v1': monitoringV1,
};

/** validates one object against its kind's OpenAPI schema; throws naming the object and the first errors */
export function validateObject(obj: K8sObject): void {
  const model = MODELS[obj.apiVersion]?.[obj.kind] as Model | undefined;
  if (model === undefined) throw new Error(`${obj.kind} ${obj.metadata?.name}: no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new model(obj).validate();
  } catch (err) {
    throw new Error(`${obj.apiVersion} ${obj.kind} ${obj.metadata.name} does not validate: ${(err as Error).message}`);
  }
}

export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in [${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}]`);
  return o;
}

/** the workload (Deployment or StatefulSet) of a tier */
export function workload(objs: K8sObject[], tier: string): K8sObject {
  const o = objs.find((x) => (x.kind === 'Deployment' || x.kind === 'StatefulSet') && x.metadata.labels?.['app.kubernetes.io/component'] === tier);
  if (!o) throw new Error(`no workload for tier ${tier}`);
  return o;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: any;
}

/** the env of a tier's (only) container */
export function containerEnv(objs: K8sObject[], tier: string): EnvVar[] {
  return workload(objs, tier).spec.template.spec.containers[0].env as EnvVar[];
}

/**
 * Type-checks the objects against kubernetes-models' TypeScript types (an in-memory module next
 * to this file, so the package resolves); returns the compiler's messages, one per problem, each
 * naming the object. Empty when every field of every object exists in its kind's type.
 */
export function unknownFields(objs: K8sObject[]): string[] {
  const file = join(ROOT, 'cli', 'test', '__rendered-objects.ts');
  const lines: string[] = [];
  objs.forEach((o, i) => {
    const path = MODEL_PATHS[o.apiVersion];
    if (path === undefined) throw new Error(`${o.kind} ${o.metadata.name}: no types for ${o.apiVersion}`);
    lines.push(`import type { I${o.kind} as T${i} } from '${path}/${o.kind}';`);
    lines.push(`// ${o.kind} ${o.metadata.name}`, `export const o${i}: T${i} = ${JSON.stringify(o)};`);
  });
  const text = lines.join('\n') + '\n';
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, text, lang) : read(name, lang, ...rest));
  const program = ts.createProgram([file], options, host);
  const source = text.split('\n');
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    return `${line > 0 ? source[line - 1].slice(3) : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
