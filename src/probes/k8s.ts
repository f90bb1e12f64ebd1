/**
 * k8sProbe (litmus-go pkg/probe/k8sprobe.go): one operation on the resources named by group/version/
 * resource in `namespace` ('' = cluster-scoped, or all namespaces for a list), by resourceNames (which win)
 * or by label/field selector:
 * - present: every named resource exists / the selectors match at least one;
 * - absent: no named resource exists / the selectors match none;
 * - create: creates `data` in the namespace;
 * - delete: deletes every named resource (all must exist first) / everything the selectors match (at
 *   least one).
 * Failure vs error as litmus-go: an API call that fails (RBAC, unknown resource type, unreachable API) is
 * an *error* (K8S_PROBE_ERROR), the check not holding is a *failure*, a failed create or delete is a
 * *failure*, `delete` with selectors matching nothing is an *error*. One difference, on purpose: `present`
 * with resourceNames and a resource that does not exist is a *failure* here ("not found"), where litmus-go
 * reports its get error as an error — a resource the chaos made disappear is what the probe is for.
 */
import type { DynamicKube, KubeObject, ResourceRef } from '../kube/dynamic.js';
import { type Outcome, fail, messageOf, pass, probeError } from './outcome.js';
import { type K8sProbeSpec, renderTemplate } from './spec.js';

const nameOf = (o: KubeObject): string => {
  const m = o['metadata'];
  return typeof m === 'object' && m !== null && 'name' in m && typeof m.name === 'string' ? m.name : '';
};

const isAbort = (error: unknown): boolean => error instanceof Error && error.name === 'AbortError';

/** One k8sProbe attempt. Throws the AbortError when `signal` aborts. */
export async function k8sAttempt(p: K8sProbeSpec, kube: DynamicKube, artifacts: ReadonlyMap<string, string>, signal: AbortSignal): Promise<Outcome> {
  const value = (name: string): string => artifacts.get(name) ?? '';
  const namesText = renderTemplate(p.resourceNames, value).trim();
  const names = namesText === '' ? [] : namesText.split(',').map((n) => n.trim());
  const labelSelector = renderTemplate(p.labelSelector, value).trim();
  const fieldSelector = renderTemplate(p.fieldSelector, value).trim();
  const ref: ResourceRef = { group: p.group, version: p.version, resource: p.resource, namespace: p.namespace };
  const kind = `${p.resource}${p.group ? `.${p.group}` : ''}`;
  const where = p.namespace ? ` in namespace ${p.namespace}` : '';
  const selectors = `{labelSelector: ${JSON.stringify(labelSelector)}, fieldSelector: ${JSON.stringify(fieldSelector)}}`;
  const done = (): Outcome => pass(`Probe successfully performed the '${p.operation}' operation on ${kind}${names.length > 0 ? ` ${names.join(', ')}` : ` matching ${selectors}`}${where}`);
  try {
    switch (p.operation) {
      case 'create': {
        const body = structuredClone(p.data ?? {});
        try {
          await kube.create(ref, body, { signal });
        } catch (error) {
          if (isAbort(error)) throw error;
          return fail('k8sProbe', `could not create the ${kind} of data${where}: ${messageOf(error)}`);
        }
        return pass(`Probe successfully performed the 'create' operation: ${kind} ${nameOf(body) || '(generated name)'}${where}`);
      }
      case 'present': {
        if (names.length > 0) {
          for (const n of names) {
            if (!(await kube.get(ref, n, { signal }))) return fail('k8sProbe', `${kind} ${JSON.stringify(n)} not found${where}, but it is expected to be present`);
          }
          return done();
        }
        const items = await kube.list(ref, { labelSelector, fieldSelector, signal });
        if (items.length === 0) return fail('k8sProbe', `no ${kind} found${where} with the selectors ${selectors}`);
        return done();
      }
      case 'absent': {
        if (names.length > 0) {
          for (const n of names) {
            if (await kube.get(ref, n, { signal })) return fail('k8sProbe', `${kind} ${JSON.stringify(n)} exists${where}, but it is expected to be absent`);
          }
          return done();
        }
        const items = await kube.list(ref, { labelSelector, fieldSelector, signal });
        if (items.length > 0) return fail('k8sProbe', `${kind} with the selectors ${selectors} should not exist${where}; found ${items.length}: ${items.slice(0, 5).map(nameOf).join(', ')}`);
        return done();
      }
      case 'delete': {
        let targets = names;
        if (names.length > 0) {
          for (const n of names) {
            if (!(await kube.get(ref, n, { signal }))) return probeError('k8sProbe', `cannot delete ${kind} ${JSON.stringify(n)}${where}: it does not exist`);
          }
        } else {
          const items = await kube.list(ref, { labelSelector, fieldSelector, signal });
          if (items.length === 0) return probeError('k8sProbe', `no ${kind} found${where} with the selectors ${selectors} to delete`);
          targets = items.map(nameOf);
        }
        for (const n of targets) {
          try {
            await kube.delete(ref, n, { signal });
          } catch (error) {
            if (isAbort(error)) throw error;
            return fail('k8sProbe', `could not delete ${kind} ${JSON.stringify(n)}${where}: ${messageOf(error)}`);
          }
        }
        return pass(`Probe successfully performed the 'delete' operation on ${kind} ${targets.join(', ')}${where}`);
      }
    }
  } catch (error) {
    if (isAbort(error) || signal.aborted) throw error;
    return probeError('k8sProbe', messageOf(error));
  }
}
