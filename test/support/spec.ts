/** Builders of typed inputs: a Spec or a LitmusSpec from ENV-like pairs, through the real parsers. */
import type { LitmusSpec } from '../../src/model/litmus.ts';
import type { Spec } from '../../src/model/spec.ts';
import { buildLitmusSpec } from '../../src/config/litmus.ts';
import { buildSpec } from '../../src/config/spec.ts';
import type { VariableName } from '../../src/config/vars.ts';

export type Env = Partial<Record<VariableName, string>>;

/** A Spec from ENV-like pairs (labels are the ENV names); `files` are what DESTINATION_IPS_FILE may name. */
export function specOf(env: Env, files: Record<string, string> = {}): Spec {
  return buildSpec({
    get: (name) => (env[name] !== undefined && env[name] !== '' ? { value: env[name], label: name } : undefined),
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw new Error('ENOENT: no such file');
      return text;
    },
  });
}

/** A LitmusSpec from ENV-like pairs. */
export function litmusSpecOf(env: Env): LitmusSpec {
  return buildLitmusSpec({ get: (n) => (env[n] ? { value: env[n], label: n } : undefined) });
}
