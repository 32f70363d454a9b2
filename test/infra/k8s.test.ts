import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueKeys } from 'bullmq';
import { Deployment, StatefulSet, type IDeploymentSpec, type IStatefulSetSpec } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget, type IPodDisruptionBudgetSpec } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount, type IContainer, type IPodSpec, type IServiceSpec } from 'kubernetes-models/v1';
import { ScaledObject, TriggerAuthentication, type IScaledObject, type ITriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { MODEL_NAMES } from '../../src/models/catalog.js';
import { queueNames } from '../../src/queue/names.js';

// Renders every kustomize overlay of infra/k8s with `kubectl kustomize` (offline), validates
// each object against the Kubernetes / KEDA schemas and checks the facts a deployment relies on.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const K8S = path.join(ROOT, 'infra/k8s');
const OVERLAYS = ['base', 'dev', 'gpu', 'gpu-keda', 'keda'];

/** Env names set on the roles' containers that src/config/config.ts does not read, and who does. */
const ENV_READ_ELSEWHERE: { name: RegExp; readBy: string }[] = [
  { name: /^AWS_/, readBy: "the AWS SDK's default credential chain (IRSA, pod identity)" },
  { name: /^NODE_OPTIONS$/, readBy: 'node' },
];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
/** Typed views of the parsed YAML (read with ?. where validation may have failed). */
type Workload = Obj & { spec: IDeploymentSpec & Pick<IStatefulSetSpec, 'volumeClaimTemplates'> };
type Pdb = Obj & { spec: IPodDisruptionBudgetSpec };
type Svc = Obj & { spec: IServiceSpec };
type So = Obj & { spec: IScaledObject['spec'] };
type Ta = Obj & { spec: ITriggerAuthentication['spec'] };

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

const CLUSTER_SCOPED = new Set(['Namespace']);

function kubectlVersion(): string | undefined {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function render(dir: string): Obj[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message}`);
  return parseAllDocuments(r.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0].message}`);
    return doc.toJS() as Obj;
  });
}

/** The variable names of config.ts's schema, read from its source (the schema is not exported). */
function configSchemaNames(): Set<string> {
  const src = readFileSync(path.join(ROOT, 'src/config/config.ts'), 'utf8');
  const body = /const schema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(src);
  if (!body) throw new Error('src/config/config.ts: `const schema = z.object({ … });` not found');
  const names = new Set([...body[1].matchAll(/^\s+([A-Z][A-Z0-9_]*):\s*z\./gm)].map((m) => m[1]));
  // A parse that finds nothing would make the env check pass vacuously.
  for (const known of ['REDIS_URL', 'ONEADAPT_LOCK_MS', 'ONEADAPT_WORKER_CONCURRENCY']) {
    if (!names.has(known)) throw new Error(`config schema parse found no ${known}`);
  }
  return names;
}
const SCHEMA_NAMES = configSchemaNames();

/** The rendered objects of one overlay, with lookups. */
class Rendered {
  constructor(readonly objects: Obj[]) {}
  all(kind: string): Obj[] {
    return this.objects.filter((o) => o.kind === kind);
  }
  find(kind: string, name: string | undefined): Obj | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }
  get(kind: string, name: string | undefined): Obj {
    const o = this.find(kind, name);
    if (!o) throw new Error(`no ${kind} ${name}`);
    return o;
  }
  workloads(): Workload[] {
    return this.objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as Workload[];
  }
  deployment(name: string): Workload {
    return this.get('Deployment', name) as Workload;
  }
  pod(kind: 'Deployment' | 'StatefulSet', name: string): IPodSpec {
    const spec = (this.get(kind, name) as Workload).spec.template.spec;
    if (!spec) throw new Error(`${kind} ${name} has no pod spec`);
    return spec;
  }
  container(deployment: string, name: string): IContainer {
    const c = this.pod('Deployment', deployment).containers.find((x) => x.name === name);
    if (!c) throw new Error(`${deployment} has no container ${name}`);
    return c;
  }
  scaledObjects(): So[] {
    return this.all('ScaledObject') as So[];
  }
  /** The one ConfigMap the roles take their environment from (generated, hashed name). */
  config(): Record<string, string> {
    const maps = this.all('ConfigMap').filter((c) => c.metadata.name.startsWith('oneadapt-config'));
    if (maps.length !== 1) throw new Error(`expected one oneadapt-config ConfigMap, got ${maps.length}`);
    return maps[0].data ?? {};
  }
  secret(): Record<string, string> {
    const secrets = this.all('Secret').filter((s) => s.metadata.name.startsWith('oneadapt-secrets'));
    if (secrets.length !== 1) throw new Error(`expected one oneadapt-secrets Secret, got ${secrets.length}`);
    return secretValues(secrets[0]);
  }
  /** The container's environment as the kubelet builds it: envFrom first, then env (values and key references). */
  environment(c: IContainer): Record<string, string> {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, this.get('ConfigMap', from.configMapRef.name).data);
      if (from.secretRef) Object.assign(env, secretValues(this.get('Secret', from.secretRef.name)));
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = String(e.value);
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        const value = secretValues(this.get('Secret', ref.name))[ref.key];
        if (value !== undefined) env[e.name] = value;
      }
      const cmRef = e.valueFrom?.configMapKeyRef;
      if (cmRef) env[e.name] = this.get('ConfigMap', cmRef.name).data?.[cmRef.key] ?? '';
    }
    return env;
  }
}

function secretValues(secret: Obj): Record<string, string> {
  const out: Record<string, string> = { ...(secret.stringData ?? {}) };
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

const isOneAdaptImage = (image: string | undefined) => /^oneadapt\/oneadapt(-cuda)?:/.test(image ?? '');
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const podLabels = (w: Workload): Record<string, string> => w.spec?.template?.metadata?.labels ?? {};

/** Every problem found in one rendered overlay; empty when it is fit to apply. */
function problems(objects: Obj[]): string[] {
  const out: string[] = [];
  const r = new Rendered(objects);
  const seen = new Set<string>();
  const namespaces = r.all('Namespace').map((n) => n.metadata.name);

  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    if (seen.has(id)) out.push(`${id}: rendered twice`);
    seen.add(id);
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!Model) {
      out.push(`${id}: ${o.apiVersion} ${o.kind} has no validator here; add it to MODELS`);
      continue;
    }
    try {
      new Model(o as never).validate();
    } catch (err) {
      out.push(`${id}: ${(err as Error).message}`);
    }
    if (!CLUSTER_SCOPED.has(o.kind)) {
      if (!o.metadata.namespace) out.push(`${id}: no namespace`);
      else if (namespaces.length > 0 && !namespaces.includes(o.metadata.namespace)) out.push(`${id}: namespace ${o.metadata.namespace} is not the rendered Namespace ${namespaces.join(',')}`);
    }
    if (o.metadata.annotations?.['config.kubernetes.io/local-config'] === 'true') out.push(`${id}: a local-config object reached the output`);
  }

  for (const w of r.workloads()) {
    const id = `${w.kind}/${w.metadata.name}`;
    const pod = w.spec?.template?.spec;
    if (!pod) continue; // schema validation has reported it
    if (!matches(w.spec.selector?.matchLabels, podLabels(w))) out.push(`${id}: selector does not match its pod labels`);
    if (pod.securityContext?.runAsNonRoot !== true) out.push(`${id}: pod securityContext.runAsNonRoot is not true`);
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    const claims = new Set((w.spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name));
    const initContainers = pod.initContainers ?? [];
    const containers = pod.containers ?? [];
    if ([...initContainers, ...containers].some((c) => isOneAdaptImage(c.image))) {
      if (typeof pod.terminationGracePeriodSeconds !== 'number') out.push(`${id}: no terminationGracePeriodSeconds`);
      if (!r.find('ServiceAccount', pod.serviceAccountName)) out.push(`${id}: ServiceAccount ${pod.serviceAccountName} is not rendered`);
    }
    for (const c of [...initContainers, ...containers]) {
      const init = initContainers.includes(c);
      const cid = `${id} container ${c.name}`;
      if (typeof c.image !== 'string' || c.image === '') out.push(`${cid}: no image`);
      else if (!/:[^/]+$/.test(c.image) || c.image.endsWith(':latest')) out.push(`${cid}: image ${c.image} has no pinned tag`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) out.push(`${cid}: no cpu and memory requests`);
      if (!c.resources?.limits?.memory) out.push(`${cid}: no memory limit`);
      if (c.securityContext?.readOnlyRootFilesystem !== true) out.push(`${cid}: root filesystem not read-only`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) out.push(`${cid}: allowPrivilegeEscalation not false`);
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      if (!init) {
        for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
          if (!c[probe]) out.push(`${cid}: no ${probe}`);
          const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
          if (typeof port === 'string' && !ports.has(port)) out.push(`${cid}: ${probe} names port ${port}, which the container does not have`);
        }
      }
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name) && !claims.has(m.name)) out.push(`${cid}: mounts ${m.name}, which is no volume`);
      }
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !r.find('ConfigMap', from.configMapRef.name)) out.push(`${cid}: envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
        if (from.secretRef && !r.find('Secret', from.secretRef.name)) out.push(`${cid}: envFrom Secret ${from.secretRef.name} is not rendered`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        const secret = r.find('Secret', ref.name);
        if (!secret) out.push(`${cid}: env ${e.name} reads Secret ${ref.name}, which is not rendered`);
        else if (!ref.optional && !(ref.key in secretValues(secret))) out.push(`${cid}: env ${e.name} reads key ${ref.key}, which Secret ${ref.name} lacks`);
      }
      const env = envOrNothing(r, c);
      for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
        for (const m of arg.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          if (!(m[1] in env)) out.push(`${cid}: argument uses $(${m[1]}), which its environment does not define`);
        }
      }
      if (!isOneAdaptImage(c.image)) continue;
      const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
      if (!tmp || !volumes.get(tmp.name)?.emptyDir) out.push(`${cid}: /tmp is not an emptyDir (the root filesystem is read-only)`);
      for (const name of Object.keys(env)) {
        if (!SCHEMA_NAMES.has(name) && !ENV_READ_ELSEWHERE.some((x) => x.name.test(name))) {
          out.push(`${cid}: env ${name} is not read by src/config/config.ts nor a known exception`);
        }
      }
      try {
        loadConfig(env);
      } catch (err) {
        out.push(`${cid}: its environment is refused: ${(err as Error).message}`);
      }
      if (!init) {
        const metrics = (c.ports ?? []).find((p) => p.name === 'metrics');
        const annotations = w.spec.template.metadata?.annotations ?? {};
        if (!metrics) out.push(`${cid}: no port named metrics`);
        else {
          if (String(metrics.containerPort) !== (env.ONEADAPT_METRICS_PORT ?? '9464')) out.push(`${cid}: port metrics ${metrics.containerPort} is not ONEADAPT_METRICS_PORT`);
          if (annotations['prometheus.io/scrape'] !== 'true' || annotations['prometheus.io/port'] !== String(metrics.containerPort)) out.push(`${id}: prometheus.io annotations do not point at port metrics`);
        }
        // Bound to loopback, the probes (from the kubelet, to the pod IP) and Prometheus fail.
        if (env.ONEADAPT_METRICS_HOST !== '0.0.0.0') out.push(`${cid}: ONEADAPT_METRICS_HOST is ${env.ONEADAPT_METRICS_HOST}, not 0.0.0.0`);
      }
    }
  }

  for (const pdb of r.all('PodDisruptionBudget') as Pdb[]) {
    const selected = r.workloads().filter((w) => matches(pdb.spec?.selector?.matchLabels, podLabels(w)));
    if (selected.length !== 1) out.push(`PodDisruptionBudget/${pdb.metadata.name}: selects ${selected.length} workloads (${selected.map((w) => w.metadata.name).join(', ')}), expected one`);
  }

  for (const svc of r.all('Service') as Svc[]) {
    const selected = r.workloads().filter((w) => matches(svc.spec?.selector, podLabels(w)));
    if (selected.length === 0) out.push(`Service/${svc.metadata.name}: selects no pods`);
    for (const port of svc.spec?.ports ?? []) {
      if (typeof port.targetPort !== 'string') continue;
      for (const w of selected) {
        const has = (w.spec.template.spec?.containers ?? []).some((c) => (c.ports ?? []).some((p) => p.name === port.targetPort));
        if (!has) out.push(`Service/${svc.metadata.name}: ${w.metadata.name} has no port ${port.targetPort}`);
      }
    }
  }

  for (const so of r.scaledObjects()) {
    const target = so.spec?.scaleTargetRef;
    if ((target?.kind ?? 'Deployment') !== 'Deployment' || !r.find('Deployment', target?.name)) out.push(`ScaledObject/${so.metadata.name}: targets ${target?.kind} ${target?.name}, which is not rendered`);
    for (const t of so.spec?.triggers ?? []) {
      const auth = t.authenticationRef?.name;
      if (auth && !r.find('TriggerAuthentication', auth)) out.push(`ScaledObject/${so.metadata.name}: trigger ${t.name} uses TriggerAuthentication ${auth}, which is not rendered`);
    }
  }
  for (const ta of r.all('TriggerAuthentication') as Ta[]) {
    for (const ref of ta.spec?.secretTargetRef ?? []) {
      const secret = r.find('Secret', ref.name);
      if (!secret || !(ref.key in secretValues(secret))) out.push(`TriggerAuthentication/${ta.metadata.name}: ${ref.parameter} reads ${ref.name}/${ref.key}, which is not rendered`);
    }
  }
  return out;
}

function envOrNothing(r: Rendered, c: IContainer): Record<string, string> {
  try {
    return r.environment(c);
  } catch {
    return {}; // a missing ConfigMap or Secret is reported on its own
  }
}

function assertFit(objects: Obj[]): void {
  const found = problems(objects);
  if (found.length > 0) throw new Error(`${found.length} problem(s):\n- ${found.join('\n- ')}`);
}

const kubectl = kubectlVersion();

if (!kubectl) {
  console.warn('test/infra/k8s.test.ts: kubectl not found on PATH; infra/k8s was not rendered nor validated');
  describe('infra/k8s', () => {
    it.skip('kubectl not found on PATH: the kustomize overlays were not rendered nor validated', () => undefined);
  });
} else {
  describe('infra/k8s', () => {
    let work: string;
    const rendered = new Map<string, Rendered>();
    const overlay = (name: string): Rendered => {
      const r = rendered.get(name);
      if (!r) throw new Error(`overlay ${name} not rendered`);
      return r;
    };

    beforeAll(() => {
      // A copy, so that the test never writes into the tree nor reads a real secret.env.
      work = mkdtempSync(path.join(tmpdir(), 'oneadapt-k8s-'));
      cpSync(K8S, path.join(work, 'k8s'), { recursive: true, filter: (src) => path.basename(src) !== 'secret.env' });
      copyFileSync(path.join(K8S, 'base/secret.env.example'), path.join(work, 'k8s/base/secret.env'));
      for (const name of OVERLAYS) rendered.set(name, new Rendered(render(path.join(work, 'k8s', name))));
    });
    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('has exactly the documented overlays', () => {
      const found = readdirSync(K8S, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(path.join(K8S, d.name, 'kustomization.yaml')))
        .map((d) => d.name)
        .sort();
      expect(found).toEqual([...OVERLAYS].sort());
    });

    it.each(OVERLAYS)('%s renders objects that validate and hang together', (name) => {
      expect(() => assertFit(overlay(name).objects)).not.toThrow();
      const kinds = new Set(overlay(name).objects.map((o) => o.kind));
      for (const kind of ['Namespace', 'ServiceAccount', 'ConfigMap', 'Secret', 'Deployment', 'PodDisruptionBudget', 'Service']) expect(kinds).toContain(kind);
      for (const d of ['oneadapt-worker', 'oneadapt-coordinator', 'oneadapt-ingest']) expect(overlay(name).find('Deployment', d)).toBeDefined();
    });

    it.each(OVERLAYS)('%s: each role runs its own command, and the PDBs cover worker and coordinator', (name) => {
      const r = overlay(name);
      expect(r.container('oneadapt-worker', 'worker').args).toEqual(['worker']);
      expect(r.container('oneadapt-coordinator', 'coordinator').args).toEqual(['coordinator']);
      expect(r.container('oneadapt-ingest', 'ingest').args).toEqual(['ingest']);
      const covered = (r.all('PodDisruptionBudget') as Pdb[]).map((pdb) => r.workloads().find((w) => matches(pdb.spec.selector?.matchLabels, podLabels(w)))?.metadata.name);
      expect(covered.sort()).toEqual(['oneadapt-coordinator', 'oneadapt-worker']);
    });

    it.each(OVERLAYS)('%s: worker and ingest pull the configured catalog model into the volume they read', (name) => {
      const r = overlay(name);
      const config = r.config();
      expect(MODEL_NAMES).toContain(config.ONEADAPT_MODEL);
      for (const [deployment, container] of [['oneadapt-worker', 'worker'], ['oneadapt-ingest', 'ingest']]) {
        const pod = r.pod('Deployment', deployment);
        const pull = (pod.initContainers ?? []).find((c) => c.name === 'models');
        expect(pull?.args).toEqual(['models', 'pull', '$(ONEADAPT_MODEL)']);
        const into = pull?.volumeMounts?.find((m) => m.mountPath === config.ONEADAPT_MODELS_DIR);
        const read = r.container(deployment, container).volumeMounts?.find((m) => m.mountPath === config.ONEADAPT_MODELS_DIR);
        expect(into?.name).toBe('models');
        expect(read).toMatchObject({ name: 'models', readOnly: true });
        expect(pod.volumes?.find((v) => v.name === 'models')?.emptyDir).toBeDefined();
      }
    });

    it.each(OVERLAYS)('%s: grace periods cover the work in flight plus one lock period', (name) => {
      const r = overlay(name);
      const lockS = Number(r.config().ONEADAPT_LOCK_MS) / 1000;
      const grace = (d: string) => r.pod('Deployment', d).terminationGracePeriodSeconds ?? 30;
      const concurrency = Number(r.environment(r.container('oneadapt-worker', 'worker')).ONEADAPT_WORKER_CONCURRENCY);
      expect(lockS).toBeGreaterThan(0);
      // Segments in flight share one inference thread: <= 10 s each on a slow CPU.
      expect(grace('oneadapt-worker')).toBeGreaterThanOrEqual(lockS + concurrency * 10);
      expect(grace('oneadapt-ingest')).toBeGreaterThanOrEqual(lockS + 15);
      expect(grace('oneadapt-coordinator')).toBeGreaterThanOrEqual(lockS);
    });

    it('the example Secret is consistent with itself and the real one is gitignored', () => {
      const s = overlay('base').secret();
      const url = new URL(s.REDIS_URL);
      expect(s.REDIS_ADDRESS).toBe(`${url.hostname}:${url.port || '6379'}`);
      expect(s.REDIS_PASSWORD).toBe(decodeURIComponent(url.password));
      expect(s.REDIS_PASSWORD).not.toBe('');
      const ignored = readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n').map((l) => l.trim());
      expect(ignored).toContain('infra/k8s/base/secret.env');
    });

    it('base: CPU workers, no GPU anywhere', () => {
      const r = overlay('base');
      for (const d of r.all('Deployment')) {
        const pod = r.pod('Deployment', d.metadata.name);
        expect(pod.tolerations ?? []).toEqual([]);
        for (const c of pod.containers) {
          expect(c.image).toBe('oneadapt/oneadapt:0.1.0');
          expect(c.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
        }
      }
      expect(r.environment(r.container('oneadapt-worker', 'worker')).ONEADAPT_EXECUTION_PROVIDERS).toBe('cpu');
      expect(r.deployment('oneadapt-coordinator').spec.replicas).toBeGreaterThanOrEqual(2);
    });

    describe.each(['gpu', 'gpu-keda'])('%s', (name) => {
      it('the worker gets one GPU, tolerates the GPU taint, lands on GPU nodes and runs CUDA', () => {
        const r = overlay(name);
        const pod = r.pod('Deployment', 'oneadapt-worker');
        const worker = r.container('oneadapt-worker', 'worker');
        expect(String(worker.resources?.limits?.['nvidia.com/gpu'])).toBe('1');
        expect(worker.image).toBe('oneadapt/oneadapt-cuda:0.1.0');
        expect((pod.initContainers ?? []).every((c) => c.image === worker.image)).toBe(true);
        const tolerated = (pod.tolerations ?? []).find((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule');
        expect(tolerated).toBeDefined();
        expect(tolerated?.operator === 'Exists' || tolerated?.value !== undefined).toBe(true);
        const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
        const gpuNodes = Object.keys(pod.nodeSelector ?? {}).length > 0 || terms.some((t) => (t.matchExpressions ?? []).length > 0);
        expect(gpuNodes).toBe(true);
        const env = r.environment(worker);
        expect(env.ONEADAPT_EXECUTION_PROVIDERS).toBe('cuda,cpu');
        expect(loadConfig(env).executionProviders).toEqual(['cuda', 'cpu']);
      });

      it('coordinator and ingest stay on CPU nodes', () => {
        const r = overlay(name);
        for (const d of ['oneadapt-coordinator', 'oneadapt-ingest']) {
          const pod = r.pod('Deployment', d);
          expect(pod.tolerations ?? []).toEqual([]);
          for (const c of pod.containers) {
            expect(c.image).toBe('oneadapt/oneadapt:0.1.0');
            expect(c.resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
          }
        }
      });
    });

    describe.each(['keda', 'gpu-keda'])('%s', (name) => {
      it("scales the worker Deployment on the segments queue's Redis lists", () => {
        const r = overlay(name);
        const [so, ...more] = r.scaledObjects();
        expect(more).toEqual([]);
        expect(so.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'oneadapt-worker' });
        // The HPA owns the count; a replicas field would reset it at every apply.
        expect(r.deployment('oneadapt-worker').spec.replicas).toBeUndefined();
        // The names the roles use: the prefix, and the queue name (hash-tagged on a Redis Cluster).
        const workerEnv = r.environment(r.container('oneadapt-worker', 'worker'));
        const segments = queueNames(workerEnv.REDIS_CLUSTER_NODES !== undefined).segments;
        const keys = new QueueKeys(workerEnv.ONEADAPT_QUEUE_PREFIX);
        const trigger = (n: string) => {
          const t = so.spec.triggers.find((x) => x.name === n);
          if (!t) throw new Error(`no trigger ${n}`);
          return t;
        };
        expect(trigger('segments-waiting')).toMatchObject({ type: 'redis', metadata: { listName: keys.toKey(segments, 'wait') } });
        expect(trigger('segments-active')).toMatchObject({ type: 'redis', metadata: { listName: keys.toKey(segments, 'active') } });
        expect(trigger('segments-active').metadata.listLength).toBe(workerEnv.ONEADAPT_WORKER_CONCURRENCY);
        expect(Number(trigger('segments-waiting').metadata.listLength)).toBeGreaterThan(0);
        const db = new URL(r.secret().REDIS_URL).pathname.replace('/', '') || '0';
        for (const t of so.spec.triggers) {
          expect(t.metadata.databaseIndex).toBe(db);
          expect(t.authenticationRef?.name).toBe('oneadapt-redis');
        }
        const ta = r.get('TriggerAuthentication', 'oneadapt-redis') as Ta;
        expect((ta.spec.secretTargetRef ?? []).map((x) => x.parameter).sort()).toEqual(['address', 'password']);
        // Scale-down takes one worker per grace period, each finishing its segments.
        const grace = r.pod('Deployment', 'oneadapt-worker').terminationGracePeriodSeconds ?? 30;
        const policies = so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown?.policies ?? [];
        expect(policies.length).toBeGreaterThan(0);
        for (const p of policies) {
          expect(p).toMatchObject({ type: 'Pods', value: 1 });
          expect(p.periodSeconds).toBeGreaterThanOrEqual(grace);
        }
      });
    });

    it('keda keeps a CPU worker warm; gpu-keda scales GPU workers from zero and waits out the cold start', () => {
      expect(overlay('keda').scaledObjects()[0].spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      const gpu = overlay('gpu-keda');
      const so = gpu.scaledObjects()[0];
      expect(so.spec.minReplicaCount).toBe(0);
      expect(so.spec.maxReplicaCount).toBeGreaterThanOrEqual(1);
      // A lockstep stream must outwait a GPU node, the image and the models coming up.
      const timeoutMs = Number(gpu.config().ONEADAPT_RESULT_TIMEOUT_MS);
      expect(timeoutMs).toBeGreaterThanOrEqual(10 * 60_000);
      expect(loadConfig(gpu.config()).resultTimeoutMs).toBe(timeoutMs);
    });

    it("dev: an in-cluster Redis that persists, never evicts and wants the Secret's password; SeaweedFS as S3", () => {
      const r = overlay('dev');
      const redis = r.pod('StatefulSet', 'oneadapt-redis').containers[0];
      const args = (redis.args ?? []).join(' ');
      expect(args).toContain('--appendonly yes');
      expect(args).toContain('--maxmemory-policy noeviction');
      expect(args).toContain('--requirepass $(REDIS_PASSWORD)');
      const secret = r.secret();
      expect(r.environment(redis).REDIS_PASSWORD).toBe(secret.REDIS_PASSWORD);
      // The roles' URLs name Services of this overlay.
      const serviceNames = r.all('Service').map((s) => s.metadata.name);
      const redisUrl = new URL(secret.REDIS_URL);
      expect(serviceNames).toContain(redisUrl.hostname);
      expect(decodeURIComponent(redisUrl.password)).toBe(secret.REDIS_PASSWORD);
      expect(serviceNames).toContain(new URL(r.config().S3_ENDPOINT).hostname);
      const s3 = r.environment(r.pod('StatefulSet', 'oneadapt-s3').containers[0]);
      expect([s3.S3_ACCESS_KEY_ID, s3.S3_SECRET_ACCESS_KEY]).toEqual([secret.S3_ACCESS_KEY_ID, secret.S3_SECRET_ACCESS_KEY]);
    });

    // The checks must bite: overlays on the base with one thing broken each.
    const BROKEN: { what: string; patch: string; error: RegExp }[] = [
      {
        what: 'replicas "two"',
        patch: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: oneadapt-worker}\nspec: {replicas: two}\n',
        error: /Deployment\/oneadapt-worker: .*replicas must be integer/,
      },
      {
        what: 'a container without image',
        patch: '- op: remove\n  path: /spec/template/spec/containers/0/image\n',
        error: /oneadapt-worker container worker: no image/,
      },
      {
        what: 'a container without readiness probe',
        patch: '- op: remove\n  path: /spec/template/spec/containers/0/readinessProbe\n',
        error: /oneadapt-worker container worker: no readinessProbe/,
      },
      {
        what: 'a misspelt variable',
        patch: '- op: add\n  path: /spec/template/spec/containers/0/env/-\n  value: {name: ONEADAPT_WORKER_CONCURENCY, value: "4"}\n',
        error: /env ONEADAPT_WORKER_CONCURENCY is not read by src\/config\/config.ts/,
      },
      {
        what: 'a value config.ts refuses',
        patch: '- op: add\n  path: /spec/template/spec/containers/0/env/-\n  value: {name: ONEADAPT_WORKER_CONCURRENCY, value: "0"}\n',
        error: /container worker: its environment is refused: invalid configuration: ONEADAPT_WORKER_CONCURRENCY/,
      },
      {
        what: 'pods that a PDB no longer selects',
        patch: '- op: replace\n  path: /spec/template/metadata/labels/app.kubernetes.io~1component\n  value: inference\n- op: replace\n  path: /spec/selector/matchLabels/app.kubernetes.io~1component\n  value: inference\n',
        error: /PodDisruptionBudget\/oneadapt-worker: selects 0 workloads/,
      },
    ];

    it.each(BROKEN)('rejects an overlay with $what', ({ patch, error }) => {
      const dir = path.join(work, `broken-${BROKEN.findIndex((b) => b.patch === patch)}`);
      mkdirSync(dir, { recursive: true });
      const jsonPatch = patch.startsWith('- op:');
      writeFileSync(path.join(dir, 'patch.yaml'), patch);
      writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources: [../k8s/base]',
          'patches:',
          '  - path: patch.yaml',
          ...(jsonPatch ? ['    target: {kind: Deployment, name: oneadapt-worker}'] : []),
          '',
        ].join('\n'),
      );
      const objects = render(dir);
      expect(() => assertFit(objects)).toThrow(error);
      // Only the break is reported: the rest of the base stays fit.
      expect(problems(objects)).toHaveLength(1);
    });
  });
}
