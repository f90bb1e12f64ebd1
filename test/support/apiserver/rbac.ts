/**
 * RBAC as the kube-apiserver evaluates it (plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows,
 * pkg/registry/rbac/validation/rule.go VisitRulesFor/appliesToUser, pkg/apis/rbac/v1/evaluation_helpers.go
 * VerbMatches/APIGroupMatches/ResourceMatches/ResourceNameMatches): ClusterRoleBindings grant everywhere,
 * RoleBindings only in their namespace, a binding to a missing role adds `RBAC: role… not found` to the
 * reason, nothing is allowed unless a rule allows it.
 *
 * The rules come from OUR manifests, so a call the code makes without a rule for it fails in the tests:
 *   - `shippedRbac`: experiments/pod-dependency-latency/rbac.yaml, with its `default` namespace changed to the
 *     ChaosEngine's and its Role copied and bound in the targets'/dependencies' namespaces, exactly as the
 *     file's header tells users to;
 *   - `experimentPermissions`: the ChaosExperiment's spec.definition.permissions (experiment.yaml), granted
 *     as a ClusterRole when its scope is Cluster, else as a Role in the ChaosEngine's namespace.
 */
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICE_ACCOUNT, files } from '../../../scripts/manifests.ts';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment */

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface RoleObject { readonly kind: 'Role' | 'ClusterRole'; readonly name: string; readonly namespace?: string; readonly rules: readonly PolicyRule[] }
export interface Subject { readonly kind: 'ServiceAccount' | 'User' | 'Group'; readonly name: string; readonly namespace?: string }
export interface BindingObject {
  readonly kind: 'RoleBinding' | 'ClusterRoleBinding';
  readonly name: string;
  readonly namespace?: string;
  readonly roleRef: { readonly kind: 'Role' | 'ClusterRole'; readonly name: string };
  readonly subjects: readonly Subject[];
}

export interface UserInfo { readonly name: string; readonly groups: readonly string[] }

/** What the service-account token authenticator makes of a pod's token. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

/** The attributes of one request (authorizer.Attributes). */
export interface RequestAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

const matches = (list: readonly string[], want: string, all: string): boolean => list.some((x) => x === all || x === want);

/** RuleAllows for a resource request. */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = rule.resources.some((r) => r === '*' || r === combined || (a.subresource !== undefined && r === `*/${a.subresource}`));
  const nameOk = !rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name));
  return matches(rule.verbs, a.verb, '*') && matches(rule.apiGroups, a.group, '*') && resourceOk && nameOk;
}

function appliesTo(user: UserInfo, subjects: readonly Subject[], namespace: string): boolean {
  return subjects.some((s) => {
    if (s.kind === 'User') return s.name === user.name;
    if (s.kind === 'Group') return user.groups.includes(s.name);
    const ns = s.namespace || namespace;
    return ns !== '' && user.name === `system:serviceaccount:${ns}:${s.name}`;
  });
}

/** One cluster's RBAC objects. */
export class Rbac {
  constructor(readonly roles: readonly RoleObject[], readonly bindings: readonly BindingObject[], readonly source: string) {}

  /** The Role/ClusterRole/RoleBinding/ClusterRoleBinding documents of a YAML stream (others are ignored). */
  static fromYaml(text: string, source: string): Rbac {
    const roles: RoleObject[] = [];
    const bindings: BindingObject[] = [];
    for (const doc of parseAllDocuments(text)) {
      const o: any = doc.toJS();
      if (!o || o.apiVersion !== 'rbac.authorization.k8s.io/v1') continue;
      const meta = { name: String(o.metadata?.name), ...(o.metadata?.namespace ? { namespace: String(o.metadata.namespace) } : {}) };
      if (o.kind === 'Role' || o.kind === 'ClusterRole') roles.push({ kind: o.kind, ...meta, rules: o.rules ?? [] });
      if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') bindings.push({ kind: o.kind, ...meta, roleRef: o.roleRef, subjects: o.subjects ?? [] });
    }
    return new Rbac(roles, bindings, source);
  }

  /** The same objects with every grant of this verb on this resource removed (a rule taken out of the manifest). */
  without(group: string, resource: string, verb: string): Rbac {
    const roles = this.roles.map((r) => ({
      ...r,
      rules: r.rules.flatMap((rule) => {
        if (!rule.apiGroups.includes(group) || !rule.resources.includes(resource) || !rule.verbs.includes(verb)) return [rule];
        const others = rule.resources.filter((x) => x !== resource);
        const verbs = rule.verbs.filter((v) => v !== verb);
        return [...(others.length ? [{ ...rule, resources: others }] : []), ...(verbs.length ? [{ ...rule, resources: [resource], verbs }] : [])];
      }),
    }));
    return new Rbac(roles, this.bindings, `${this.source} without ${verb} ${resource}`);
  }

  /** RBACAuthorizer.Authorize: allowed, or the reason (`RBAC: …` when a binding's role is missing). */
  authorize(user: UserInfo, a: RequestAttributes): { allowed: true } | { allowed: false; reason: string } {
    const errors: string[] = [];
    const rulesOf = (ref: BindingObject['roleRef'], namespace: string): readonly PolicyRule[] => {
      const role = this.roles.find((r) => r.kind === ref.kind && r.name === ref.name && (ref.kind === 'ClusterRole' || r.namespace === namespace));
      if (!role) errors.push(`${ref.kind === 'Role' ? 'role' : 'clusterrole'}.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`);
      return role?.rules ?? [];
    };
    for (const b of this.bindings.filter((x) => x.kind === 'ClusterRoleBinding')) {
      if (appliesTo(user, b.subjects, '') && rulesOf(b.roleRef, '').some((r) => ruleAllows(r, a))) return { allowed: true };
    }
    if (a.namespace) {
      for (const b of this.bindings.filter((x) => x.kind === 'RoleBinding' && x.namespace === a.namespace)) {
        if (appliesTo(user, b.subjects, a.namespace) && rulesOf(b.roleRef, a.namespace).some((r) => ruleAllows(r, a))) return { allowed: true };
      }
    }
    return { allowed: false, reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`}` : '' };
  }
}

/** Who the double's clients are and what they may do: every policy must allow a request (see ApiDouble.rbac). */
export interface RbacSetup {
  readonly user: UserInfo;
  readonly policies: readonly Rbac[];
  /** `namespace/name` of the service accounts that exist (the ServiceAccount admission plugin checks pods against them). */
  readonly serviceAccounts: readonly string[];
}

const NETCHAOS_ROLE = 'pod-dependency-latency';
/** The read-only Role rbac.yaml says to copy into the namespaces of targets and dependencies. */
const TARGETS_ROLE = 'pod-dependency-latency-targets';

/**
 * rbac.yaml as a user applies it for a ChaosEngine in `namespace`: `default` replaced by it, and the
 * read-only targets Role copied and bound in each of `alsoIn` (the namespaces of targets and dependencies).
 */
export function shippedRbac(o: { namespace: string; alsoIn?: readonly string[]; text?: string }): Rbac {
  const text = o.text ?? readFileSync(files.rbac, 'utf8');
  const base = Rbac.fromYaml(text, 'rbac.yaml');
  const ns = (v: string | undefined): string | undefined => (v === 'default' ? o.namespace : v);
  const roles: RoleObject[] = base.roles.map((r) => ({ ...r, ...(r.namespace ? { namespace: ns(r.namespace)! } : {}) }));
  const bindings: BindingObject[] = base.bindings.map((b) => ({
    ...b, ...(b.namespace ? { namespace: ns(b.namespace)! } : {}),
    subjects: b.subjects.map((s) => ({ ...s, ...(s.namespace ? { namespace: ns(s.namespace)! } : {}) })),
  }));
  const role = roles.find((r) => r.kind === 'Role' && r.name === TARGETS_ROLE);
  const binding = bindings.find((b) => b.kind === 'RoleBinding' && b.roleRef.name === TARGETS_ROLE);
  if (!role || !binding) throw new Error(`rbac.yaml has no Role ${TARGETS_ROLE} with a RoleBinding`);
  if (!roles.some((r) => r.kind === 'Role' && r.name === NETCHAOS_ROLE)) throw new Error(`rbac.yaml has no Role ${NETCHAOS_ROLE}`);
  for (const other of o.alsoIn ?? []) {
    if (other === o.namespace) continue;
    roles.push({ ...role, namespace: other });
    bindings.push({ ...binding, namespace: other });
  }
  return new Rbac(roles, bindings, `rbac.yaml (namespace ${o.namespace}${o.alsoIn?.length ? `, Role also bound in ${o.alsoIn.join(', ')}` : ''})`);
}

/** The ChaosExperiment's permissions as the grant they describe (ClusterRole for scope Cluster, else a Role). */
export function experimentPermissions(o: { namespace: string; text?: string }): Rbac {
  const exp: any = parse(o.text ?? readFileSync(files.experiment, 'utf8'));
  const rules: PolicyRule[] = exp?.spec?.definition?.permissions ?? [];
  const cluster = exp?.spec?.definition?.scope === 'Cluster';
  const subjects: Subject[] = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: o.namespace }];
  const name = `${String(exp?.metadata?.name)}-permissions`;
  return cluster
    ? new Rbac([{ kind: 'ClusterRole', name, rules }], [{ kind: 'ClusterRoleBinding', name, roleRef: { kind: 'ClusterRole', name }, subjects }], 'experiment.yaml permissions (scope Cluster)')
    : new Rbac([{ kind: 'Role', name, namespace: o.namespace, rules }], [{ kind: 'RoleBinding', name, namespace: o.namespace, roleRef: { kind: 'Role', name }, subjects }], 'experiment.yaml permissions (scope Namespaced)');
}

/**
 * The runner's identity in a Litmus run: the ChaosEngine's service account (rbac.yaml's ServiceAccount,
 * `pod-dependency-latency-sa`) in `namespace`, allowed only what BOTH rbac.yaml and the ChaosExperiment's
 * permissions grant (a user installs one or the other: the code must work with either).
 */
export function litmusRunner(o: { namespace: string; alsoIn?: readonly string[] }): RbacSetup {
  const docs: any[] = parseAllDocuments(readFileSync(files.rbac, 'utf8')).map((d) => d.toJS() as unknown);
  const sa: unknown = docs.find((d) => d?.kind === 'ServiceAccount')?.metadata?.name ?? SERVICE_ACCOUNT;
  return {
    user: serviceAccountUser(o.namespace, String(sa)),
    policies: [shippedRbac(o), experimentPermissions({ namespace: o.namespace })],
    serviceAccounts: [`${o.namespace}/${String(sa)}`],
  };
}
