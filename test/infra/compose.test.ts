// The compose files: valid against the Compose Specification's schema, and the structure the
// deployment relies on (docs/deploying.md). `${VAR:-default}` stays a string, as compose sees
// it before interpolation. `npm run test:compose` runs the stack for real.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA_PATH = path.resolve(ROOT, '../shared/schemas/compose-spec.json');
const HAVE_SCHEMA = existsSync(SCHEMA_PATH);

type Doc = Record<string, unknown>;
type Service = Record<string, unknown> & {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[] | string;
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: unknown[];
  volumes?: string[];
  restart?: string;
  deploy?: { resources?: { reservations?: { devices?: { driver?: string; count?: number | string; capabilities?: string[] }[] } } };
};

const COMPOSE_FILES = [
  ...readdirSync(ROOT).filter((f) => /^docker-compose.*\.ya?ml$/.test(f)),
  'infra/compose-test/docker-compose.test.yml',
];
const ROLES = ['coordinator', 'ingest', 'worker'] as const;

function load(file: string): Doc {
  // Merge keys (`<<: *anchor`) as docker-compose 1.29 (PyYAML) and Compose v2 read them.
  return parse(readFileSync(path.join(ROOT, file), 'utf8'), { merge: true }) as Doc;
}

const base = load('docker-compose.yml');
const gpu = load('docker-compose.gpu.yml');
const services = base.services as Record<string, Service>;
const svc = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const commandOf = (s: Service): string[] => (Array.isArray(s.command) ? s.command : String(s.command ?? '').split(/\s+/));
const testOf = (s: Service): string => [s.healthcheck?.test ?? []].flat().join(' ');
/** `${NAME:-default}` / `${NAME:?message}` / `${NAME}` references in a text. */
const variables = (text: string): string[] => [...text.matchAll(/\$\{([A-Z0-9_]+)(?:[:?-][^}]*)?\}/g)].map((m) => m[1]);

describe('compose files against the Compose Specification schema', () => {
  it.skipIf(!HAVE_SCHEMA)(`validate (skipped when ${SCHEMA_PATH} is absent)`, () => {
    const validate = compile();
    for (const file of COMPOSE_FILES) {
      const ok = validate(load(file));
      expect({ file, errors: ok ? [] : describeErrors(validate.errors) }).toEqual({ file, errors: [] });
    }
  });

  it.skipIf(!HAVE_SCHEMA)('rejects a broken compose file: a bad depends_on condition, a port object with an unknown key', () => {
    const validate = compile();
    const badCondition = structuredClone(base) as { services: Record<string, Service> };
    badCondition.services.worker.depends_on = { redis: { condition: 'healthy' } };
    expect(validate(badCondition)).toBe(false);
    expect(describeErrors(validate.errors).join('\n')).toMatch(/services\/worker\/depends_on/);

    const badPort = structuredClone(base) as { services: Record<string, Service> };
    badPort.services.redis.ports = [{ host_ip: '127.0.0.1', published: '16379', target: 6379, hostport: 16379 }];
    expect(validate(badPort)).toBe(false);
    expect(describeErrors(validate.errors).join('\n')).toMatch(/services\/redis\/ports/);

    // The same port without the stray key is valid: the failure above is that key.
    const goodPort = structuredClone(base) as { services: Record<string, Service> };
    goodPort.services.redis.ports = [{ host_ip: '127.0.0.1', published: '16379', target: 6379 }];
    expect(validate(goodPort)).toBe(true);
  });
});

function compile() {
  const { $schema, ...schema } = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  // The schema names draft-07 by its https URI, which Ajv (draft-07 by default) registers as http.
  expect(String($schema)).toMatch(/draft-07/);
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

describe('docker-compose.yml', () => {
  it('has Redis, SeaweedFS, the models one-shot and one service per role, no version key, no container names', () => {
    expect(Object.keys(services).sort()).toEqual(['coordinator', 'ingest', 'models', 'redis', 's3', 'worker']);
    expect(base).not.toHaveProperty('version');
    for (const [name, s] of Object.entries(services)) expect({ name, container_name: s.container_name }).toEqual({ name, container_name: undefined });
  });

  it('runs Redis 7 with AOF, noeviction and a password from .env, checked with an authenticated ping', () => {
    const redis = svc('redis');
    expect(redis.image).toMatch(/redis:7\}?$/);
    const args = commandOf(redis);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args[0]).toBe('redis-server');
    expect(after('--appendonly')).toBe('yes');
    expect(after('--maxmemory-policy')).toBe('noeviction');
    expect(after('--requirepass')).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    expect(testOf(redis)).toMatch(/redis-cli .*ping/);
    // redis-cli authenticates from REDISCLI_AUTH: without it the ping answers NOAUTH, not PONG.
    expect(redis.environment?.REDISCLI_AUTH).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    expect(testOf(redis)).toMatch(/PONG/);
    expect(redis.volumes).toContain('redis-data:/data');
  });

  it('runs SeaweedFS with S3 on 8333 and an identity holding the keys from .env', () => {
    const s3 = svc('s3');
    expect(s3.image).toMatch(/chrislusf\/seaweedfs/);
    const script = commandOf(s3).join('\n');
    expect(script).toMatch(/weed|entrypoint\.sh/);
    expect(script).toMatch(/server -s3 /);
    expect(script).toMatch(/-s3\.port=8333/);
    expect(script).toMatch(/-s3\.config=(\S+)/);
    const config = /-s3\.config=(\S+)/.exec(script)![1];
    expect(script).toContain(`> ${config}`);
    // $$ is compose's escape: the container's shell expands the keys, compose does not.
    expect(script).toMatch(/"\$\$S3_ACCESS_KEY_ID" "\$\$S3_SECRET_ACCESS_KEY"/);
    expect(s3.environment?.S3_ACCESS_KEY_ID).toMatch(/^\$\{S3_ACCESS_KEY_ID:\?/);
    expect(s3.environment?.S3_SECRET_ACCESS_KEY).toMatch(/^\$\{S3_SECRET_ACCESS_KEY:\?/);
    expect(testOf(s3)).toMatch(/8333\/healthz/);
    expect(s3.volumes).toContain('s3-data:/data');
  });

  it('gives every role a /healthz healthcheck, healthy Redis and S3 first, and a restart policy', () => {
    for (const role of ROLES) {
      const s = svc(role);
      expect(commandOf(s)).toEqual([role]);
      expect(testOf(s)).toMatch(/^CMD node -e .*127\.0\.0\.1:9464\/healthz/);
      expect(s.depends_on?.redis).toEqual({ condition: 'service_healthy' });
      expect(s.depends_on?.s3).toEqual({ condition: 'service_healthy' });
      expect(s.restart).toBe('unless-stopped');
      expect(s.build).toEqual({ context: '.', dockerfile: 'infra/Dockerfile' });
      const env = s.environment ?? {};
      expect(env.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379$/);
      expect(env.S3_ENDPOINT).toBe('http://s3:8333');
      expect(env.S3_FORCE_PATH_STYLE).toBe('true');
      expect(env.ONEADAPT_METRICS_HOST).toBe('0.0.0.0');
      expect(env.ONEADAPT_MODELS_DIR).toBe('/models');
    }
  });

  it('fills the model volume with a one-shot `models pull` that the model readers wait for', () => {
    const models = svc('models');
    expect(commandOf(models)).toEqual(['models', 'pull']);
    expect(models.restart).toBe('no');
    expect(models.volumes).toContain('${ONEADAPT_MODELS:-models}:/models');
    for (const role of ['ingest', 'worker']) {
      expect(svc(role).depends_on?.models).toEqual({ condition: 'service_completed_successfully' });
      expect(svc(role).volumes).toContain('${ONEADAPT_MODELS:-models}:/models:ro');
    }
    expect(Object.keys(base.volumes as Doc).sort()).toEqual(['models', 'redis-data', 's3-data']);
  });

  it('publishes host ports on 127.0.0.1 by default, from variables, clear of 6379 and 9000', () => {
    const published: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const port of s.ports ?? []) {
        expect(typeof port, `${name}: short syntax`).toBe('string');
        const m = /^\$\{ONEADAPT_BIND_HOST:-127\.0\.0\.1\}:\$\{([A-Z0-9_]+):-(\d+)\}:(\d+)$/.exec(String(port));
        expect(m, `${name}: ${String(port)}`).not.toBeNull();
        expect(['6379', '9000']).not.toContain(m![2]);
        published.push(m![2]);
      }
    }
    expect(new Set(published).size).toBe(published.length);
    expect(svc('redis').ports).toHaveLength(1);
    expect(svc('s3').ports).toHaveLength(1);
  });

  it('keeps the worker scalable: no container name, no host port', () => {
    const worker = svc('worker');
    expect(worker).not.toHaveProperty('container_name');
    expect(worker).not.toHaveProperty('ports');
    expect(worker.stop_grace_period).toBeDefined();
  });

  it('takes every variable it uses from .env.example, and .env is git-ignored', () => {
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const defined = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
    for (const file of ['docker-compose.yml', 'docker-compose.gpu.yml']) {
      for (const name of variables(readFileSync(path.join(ROOT, file), 'utf8'))) expect(defined, `${file}: ${name}`).toContain(name);
    }
    const ignored = readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toContain('.env');
  });
});

describe('docker-compose.gpu.yml', () => {
  const worker = (gpu.services as Record<string, Service>).worker;

  it('changes only the worker: the CUDA image, cuda,cpu providers, an nvidia GPU reservation', () => {
    expect(Object.keys(gpu.services as Doc)).toEqual(['worker']);
    expect(worker.build?.dockerfile).toBe('infra/Dockerfile.cuda');
    expect(existsSync(path.join(ROOT, worker.build!.dockerfile!))).toBe(true);
    expect(worker.environment?.ONEADAPT_EXECUTION_PROVIDERS).toBe('cuda,cpu');
    const devices = worker.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toHaveLength(1);
    expect(devices[0].driver).toBe('nvidia');
    expect(devices[0].capabilities).toContain('gpu');
    // Merged over the base, the worker keeps its healthcheck, dependencies and no host port.
    expect(worker).not.toHaveProperty('healthcheck');
    expect(worker).not.toHaveProperty('depends_on');
    expect(worker).not.toHaveProperty('ports');
  });
});

describe('the compose test override', () => {
  const override = load('infra/compose-test/docker-compose.test.yml').services as Record<string, Service>;

  it('swaps only what cannot be pulled and builds on the host network; ports and roles stay as in production', () => {
    expect(override.redis.image).toMatch(/COMPOSE_TEST_REDIS_IMAGE/);
    expect(override.s3.image).toMatch(/ONEADAPT_IMAGE/);
    for (const [name, s] of Object.entries(override)) {
      expect({ name, ports: s.ports, network_mode: s.network_mode, healthcheck: ROLES.includes(name as never) ? s.healthcheck : undefined }).toEqual({
        name,
        ports: undefined,
        network_mode: undefined,
        healthcheck: undefined,
      });
      if (s.build) expect(s.build).toMatchObject({ network: 'host', args: { NODE_IMAGE: expect.stringMatching(/COMPOSE_TEST_NODE_IMAGE/) } });
    }
  });
});
