/**
 * The Helm chart (helm/replicant) under test: the pinned Helm binary (scripts/go-tools.txt, built
 * by scripts/install-go-tool.sh and cached), `helm template` parsed into objects, and validation of
 * every object against the Kubernetes OpenAPI schemas that npm `kubernetes-models` ships (the
 * Kubernetes 1.34 API; ServiceMonitor from @kubernetes-models/prometheus-operator). Nothing is
 * fetched at run time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
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

export interface RenderOptions {
  files?: string[];
  sets?: string[];
  release?: string;
  namespace?: string;
}

/** `helm template` arguments for a render */
export function templateArgs(o: RenderOptions = {}): string[] {
  const args = ['template', o.release ?? 'rt', CHART, '--namespace', o.namespace ?? 'replicant'];
  for (const f of o.files ?? []) args.push('-f', f);
  for (const s of o.sets ?? []) args.push('--set', s);
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
