/**
 * The rules a kube-apiserver enforces in Go code (not in the OpenAPI schema) on the objects netchaos
 * writes, and the defaults it fills in before it validates. Each rule names where Kubernetes defines it:
 *   apimachinery  = staging/src/k8s.io/apimachinery/pkg
 *   core          = pkg/apis/core/validation/validation.go
 *   events        = pkg/apis/core/validation/events.go
 *   defaults      = pkg/apis/core/v1/defaults.go
 * Messages follow the Kubernetes source (read with the search tool; none of it is copied here).
 *
 * Not enforced by the apiserver, so not here either: capability NAMES (ValidateSecurityContext only looks at
 * `CAP_SYS_ADMIN` together with allowPrivilegeEscalation=false); an unknown capability is refused later by
 * the container runtime when the kubelet starts the container (see `unknownCapabilities`).
 */
import { type FieldError, duplicate, forbidden, invalid, notFoundField, notSupported, required, tooLong } from './status.ts';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
type Obj = Record<string, any>;

// ---- apimachinery/util/validation/validation.go ------------------------------------------------------

const regexError = (msg: string, fmt: string, ...examples: string[]): string =>
  `${msg} (${examples.length ? `e.g. ${examples.map((e) => `'${e}'`).join(' or ')}, ` : ''}regex used for validation is '${fmt}')`;
const maxLenError = (n: number): string => `must be no more than ${n} characters`;
export const inclusiveRangeError = (lo: number, hi: number): string => `must be between ${lo} and ${hi}, inclusive`;

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelValueFmt = `(${qualifiedNameFmt})?`;
const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const full = (fmt: string): RegExp => new RegExp(`^${fmt}$`);

/** IsDNS1123Label: container names, volume names, namespaces, hostnames. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLenError(63));
  if (!full(dns1123LabelFmt).test(v)) errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", dns1123LabelFmt, 'my-name', '123-abc'));
  return errs;
}

/** IsDNS1035Label: Service names (ValidateServiceName = NameIsDNS1035Label). */
export function isDNS1035Label(v: string): string[] {
  const fmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLenError(63));
  if (!full(fmt).test(v)) errs.push(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", fmt, 'my-name', 'abc-123'));
  return errs;
}

/** IsDNS1123Subdomain: most object names (pods, events, custom resources), node names. */
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLenError(253));
  if (!full(dns1123SubdomainFmt).test(v)) errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", dns1123SubdomainFmt, 'example.com'));
  return errs;
}

/** IsQualifiedName: label and annotation keys (`[prefix/]name`). */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix === '') errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [`a qualified name ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!full(qualifiedNameFmt).test(name)) errs.push(`name part ${regexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** IsValidLabelValue. */
export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLenError(63));
  if (!full(labelValueFmt).test(v)) errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", labelValueFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** IsEnvVarName. */
function isEnvVarName(v: string): string[] {
  const errs: string[] = [];
  if (!full(envVarNameFmt).test(v)) errs.push(regexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit", envVarNameFmt, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  if (v === '.') errs.push("must not be '.'");
  else if (v === '..') errs.push("must not be '..'");
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

// ---- apimachinery/apis/meta/v1/validation + api/validation/objectmeta.go -----------------------------

/** ValidateLabels (meta/v1/validation): keys are qualified names, values label values. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (typeof labels !== 'object' || labels === null) return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) errs.push(invalid(path, k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(invalid(path, v, m));
  }
  return errs;
}

/** ValidateAnnotations (api/validation/objectmeta.go): qualified keys, at most 256 KiB in all. */
function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (typeof annotations !== 'object' || annotations === null) return [];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, m));
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) errs.push(tooLong(path, 256 * 1024));
  return errs;
}

/** ValidateOwnerReferences / validateOwnerReference (api/validation/objectmeta.go). */
function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  if (!Array.isArray(refs)) return [];
  const errs: FieldError[] = [];
  let controller = '';
  for (const r of refs as Obj[]) {
    const apiVersion = String(r['apiVersion'] ?? '');
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    if (!version) errs.push(invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!r['kind']) errs.push(invalid(`${path}.kind`, r['kind'] ?? '', 'kind must not be empty'));
    if (!r['name']) errs.push(invalid(`${path}.name`, r['name'] ?? '', 'name must not be empty'));
    if (!r['uid']) errs.push(invalid(`${path}.uid`, r['uid'] ?? '', 'uid must not be empty'));
    // BannedOwners: a core/v1 Event cannot own anything.
    if (apiVersion === 'v1' && r['kind'] === 'Event') errs.push(invalid(path, r, '/v1, Kind=Event is disallowed from being an owner'));
    if (r['controller'] === true) {
      if (controller) errs.push(invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${String(r['name'])}`));
      else controller = String(r['name']);
    }
  }
  return errs;
}

/**
 * ValidateObjectMetaAccessor (api/validation/objectmeta.go) with the name rule of the type: name required
 * (no generateName here), namespace required for namespaced types and forbidden otherwise, labels,
 * annotations, owner references.
 */
export function validateObjectMeta(meta: Obj | undefined, namespaced: boolean, nameRule: (v: string) => string[] = isDNS1123Subdomain): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  const name = typeof m['name'] === 'string' ? m['name'] : '';
  if (!name && !m['generateName']) errs.push(required('metadata.name', 'name or generateName is required'));
  else if (name) for (const msg of nameRule(name)) errs.push(invalid('metadata.name', name, msg));
  const ns = typeof m['namespace'] === 'string' ? m['namespace'] : '';
  if (namespaced) {
    if (!ns) errs.push(required('metadata.namespace'));
    else for (const msg of isDNS1123Label(ns)) errs.push(invalid('metadata.namespace', ns, msg));
  } else if (ns) errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  errs.push(...validateLabels(m['labels'], 'metadata.labels'));
  errs.push(...validateAnnotations(m['annotations'], 'metadata.annotations'));
  errs.push(...validateOwnerReferences(m['ownerReferences'], 'metadata.ownerReferences'));
  return errs;
}

// ---- defaults (pkg/apis/core/v1/defaults.go), applied before validation as the apiserver does -----------

/** Registered image names without a tag mean `latest` (parsers.ParseImageName). */
function imageTag(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(colon + 1) : 'latest';
}

/** SetDefaults_Pod, SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_ContainerPort, SetDefaults_ObjectFieldSelector, SetDefaults_HostPathVolumeSource. */
export function defaultPod(pod: Obj): void {
  const spec: Obj = pod['spec'] ??= {};
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['restartPolicy'] ??= 'Always';
  spec['securityContext'] ??= {};
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['schedulerName'] ??= 'default-scheduler';
  spec['enableServiceLinks'] ??= true;
  for (const c of [...(spec['initContainers'] ?? []), ...(spec['containers'] ?? [])] as Obj[]) {
    if (typeof c !== 'object' || c === null) continue;
    if (!c['imagePullPolicy'] && typeof c['image'] === 'string') c['imagePullPolicy'] = imageTag(c['image']) === 'latest' ? 'Always' : 'IfNotPresent';
    c['terminationMessagePath'] ||= '/dev/termination-log';
    c['terminationMessagePolicy'] ||= 'File';
    for (const p of (c['ports'] ?? []) as Obj[]) p['protocol'] ||= 'TCP';
    for (const e of (c['env'] ?? []) as Obj[]) if (e['valueFrom']?.['fieldRef']) e['valueFrom']['fieldRef']['apiVersion'] ||= 'v1';
  }
  for (const v of (spec['volumes'] ?? []) as Obj[]) if (v['hostPath']) v['hostPath']['type'] ??= '';
}

// ---- core: pods ---------------------------------------------------------------------------------------

/** validEnvDownwardAPIFieldPathExpressions (validateEnvVarValueFrom → validateObjectFieldSelector). */
const envFieldPaths = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];

/** supportedHostPathTypes (validateHostPathType). */
const hostPathTypes = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function validateEnv(env: unknown, path: string): FieldError[] {
  if (!Array.isArray(env)) return [];
  const errs: FieldError[] = [];
  (env as Obj[]).forEach((e, i) => {
    const p = `${path}[${i}]`;
    // ValidateEnv: names are IsEnvVarName.
    if (!e['name']) errs.push(required(`${p}.name`));
    else for (const m of isEnvVarName(String(e['name']))) errs.push(invalid(`${p}.name`, e['name'], m));
    const from = e['valueFrom'];
    if (from === undefined) return;
    // validateEnvVarValueFrom: exactly one source, and not together with `value`.
    const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter((k) => from[k] !== undefined);
    if (sources.length === 0) errs.push(invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (e['value']) errs.push(invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    else if (sources.length > 1) errs.push(invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
    const ref = from['fieldRef'];
    if (ref) {
      // validateObjectFieldSelector: apiVersion (defaulted to v1) and a supported fieldPath.
      const fp = String(ref['fieldPath'] ?? '');
      const subscripted = /^metadata\.(labels|annotations)\['[^']+'\]$/.test(fp);
      if (!ref['apiVersion']) errs.push(required(`${p}.valueFrom.fieldRef.apiVersion`));
      else if (!fp) errs.push(required(`${p}.valueFrom.fieldRef.fieldPath`));
      else if (!subscripted && !envFieldPaths.includes(fp)) errs.push(notSupported(`${p}.valueFrom.fieldRef.fieldPath`, fp, envFieldPaths));
    }
  });
  return errs;
}

function validateContainer(c: Obj, path: string, volumes: ReadonlySet<string>): FieldError[] {
  const errs: FieldError[] = [];
  // validateContainers / validateContainerCommon: name is a DNS-1123 label, image required (pods).
  if (!c['name']) errs.push(required(`${path}.name`));
  else for (const m of isDNS1123Label(String(c['name']))) errs.push(invalid(`${path}.name`, c['name'], m));
  if (!c['image']) errs.push(required(`${path}.image`));
  // validateContainersOnlyForPod: no whitespace around the image.
  else if (String(c['image']).trim() !== c['image']) errs.push(invalid(`${path}.image`, c['image'], 'must not have leading or trailing whitespace'));
  // validateContainers: terminationMessagePolicy is File or FallbackToLogsOnError (required after defaulting).
  const tmp = c['terminationMessagePolicy'];
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`, "must be 'File' or 'FallbackToLogsOnError'"));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(invalid(`${path}.terminationMessagePolicy`, tmp, "must be 'File' or 'FallbackToLogsOnError'"));
  // validatePullPolicy.
  const pull = c['imagePullPolicy'];
  if (!pull) errs.push(required(`${path}.imagePullPolicy`));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) errs.push(notSupported(`${path}.imagePullPolicy`, pull, ['Always', 'IfNotPresent', 'Never']));
  errs.push(...validateEnv(c['env'], `${path}.env`));
  // ValidateVolumeMounts: the name of a volume of the pod, a mount path, unique mount paths.
  const mountPaths = new Set<string>();
  ((c['volumeMounts'] ?? []) as Obj[]).forEach((m, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (!m['name']) errs.push(required(`${p}.name`));
    else if (!volumes.has(m['name'])) errs.push(notFoundField(`${p}.name`, m['name']));
    if (!m['mountPath']) errs.push(required(`${p}.mountPath`));
    else if (mountPaths.has(m['mountPath'])) errs.push(invalid(`${p}.mountPath`, m['mountPath'], 'must be unique'));
    else mountPaths.add(m['mountPath']);
  });
  // ValidateSecurityContext.
  const sc = c['securityContext'];
  if (sc) {
    if (typeof sc['runAsUser'] === 'number' && (sc['runAsUser'] < 0 || sc['runAsUser'] > 2147483647)) errs.push(invalid(`${path}.securityContext.runAsUser`, sc['runAsUser'], inclusiveRangeError(0, 2147483647)));
    if (sc['allowPrivilegeEscalation'] === false) {
      if (sc['privileged'] === true) errs.push(invalid(`${path}.securityContext`, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
      const added: unknown = sc['capabilities']?.['add'];
      if (Array.isArray(added) && added.includes('CAP_SYS_ADMIN')) errs.push(invalid(`${path}.securityContext`, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  return errs;
}

/** ValidatePodCreate → ValidatePodSpec (+ validateContainersOnlyForPod) for the fields netchaos sets. */
export function validatePod(pod: Obj): FieldError[] {
  const errs = validateObjectMeta(pod['metadata'], true);
  const spec: Obj = pod['spec'] ?? {};
  // ValidateVolumes: names are DNS-1123 labels and unique; hostPath: a path and a supported type.
  const volumes = new Set<string>();
  ((spec['volumes'] ?? []) as Obj[]).forEach((v, i) => {
    const p = `spec.volumes[${i}]`;
    if (!v['name']) errs.push(required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(String(v['name']))) errs.push(invalid(`${p}.name`, v['name'], m));
      if (volumes.has(v['name'])) errs.push(duplicate(`${p}.name`, v['name']));
      volumes.add(v['name']);
    }
    if (v['hostPath']) {
      if (!v['hostPath']['path']) errs.push(required(`${p}.hostPath.path`));
      const t = v['hostPath']['type'];
      if (t !== undefined && !hostPathTypes.includes(t)) errs.push(notSupported(`${p}.hostPath.type`, t, hostPathTypes));
    }
  });
  // validateContainers: at least one container, names unique across containers and init containers.
  const containers = (spec['containers'] ?? []) as Obj[];
  if (containers.length === 0) errs.push(required('spec.containers'));
  const names = new Set<string>();
  const each = (list: Obj[], field: string): void => {
    list.forEach((c, i) => {
      errs.push(...validateContainer(c, `spec.${field}[${i}]`, volumes));
      if (c['name'] && names.has(c['name'])) errs.push(duplicate(`spec.${field}[${i}].name`, c['name']));
      names.add(c['name']);
    });
  };
  each((spec['initContainers'] ?? []) as Obj[], 'initContainers');
  each(containers, 'containers');
  // validateRestartPolicy, validateDNSPolicy (both required after defaulting).
  const restart = spec['restartPolicy'];
  if (!['Always', 'OnFailure', 'Never'].includes(restart)) errs.push(restart ? notSupported('spec.restartPolicy', restart, ['Always', 'OnFailure', 'Never']) : required('spec.restartPolicy'));
  const dns = spec['dnsPolicy'];
  if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(dns)) errs.push(dns ? notSupported('spec.dnsPolicy', dns, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']) : required('spec.dnsPolicy'));
  // ValidatePodSpec: nodeName (ValidateNodeName = DNS-1123 subdomain), serviceAccountName (ValidateServiceAccountName = subdomain).
  if (spec['nodeName']) for (const m of isDNS1123Subdomain(String(spec['nodeName']))) errs.push(invalid('spec.nodeName', spec['nodeName'], m));
  if (spec['serviceAccountName']) for (const m of isDNS1123Subdomain(String(spec['serviceAccountName']))) errs.push(invalid('spec.serviceAccountName', spec['serviceAccountName'], m));
  // ValidatePodSpec: activeDeadlineSeconds in [1, MaxInt32].
  const ads = spec['activeDeadlineSeconds'];
  if (typeof ads === 'number' && (ads < 1 || ads > 2147483647)) errs.push(invalid('spec.activeDeadlineSeconds', ads, inclusiveRangeError(1, 2147483647)));
  // ValidatePodSpec → ValidateLabels on nodeSelector; ValidateTolerations.
  errs.push(...validateLabels(spec['nodeSelector'], 'spec.nodeSelector'));
  ((spec['tolerations'] ?? []) as Obj[]).forEach((t, i) => {
    const p = `spec.tolerations[${i}]`;
    if (t['key']) for (const m of isQualifiedName(String(t['key']))) errs.push(invalid(`${p}.key`, t['key'], m));
    if (!t['key'] && t['operator'] !== 'Exists') errs.push(invalid(`${p}.operator`, t['operator'] ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t['tolerationSeconds'] !== undefined && t['effect'] !== 'NoExecute') errs.push(invalid(`${p}.effect`, t['effect'] ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    const op = t['operator'] ?? '';
    if (op === 'Equal' || op === '') { const m = isValidLabelValue(String(t['value'] ?? '')); if (m.length) errs.push(invalid(`${p}.operator`, t['value'], m.join(';'))); }
    else if (op === 'Exists') { if (t['value']) errs.push(invalid(`${p}.operator`, t, "value must be empty when `operator` is 'Exists'")); }
    else errs.push(notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    // validateTaintEffect.
    if (t['effect'] && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t['effect'])) errs.push(notSupported(`${p}.effect`, t['effect'], ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
  });
  // validateImagePullSecrets: only `name`, and it is required.
  ((spec['imagePullSecrets'] ?? []) as Obj[]).forEach((s, i) => { if (!s['name']) errs.push(required(`spec.imagePullSecrets[${i}].name`)); });
  return errs;
}

/**
 * Capability names the container runtimes know (Linux capabilities(7), `CAP_` optional): the apiserver takes
 * any string, but containerd/CRI-O refuse an unknown one when the kubelet creates the container
 * (CreateContainerError), so the helper pod would never start.
 */
const linuxCapabilities = new Set(['AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'CHOWN', 'DAC_OVERRIDE',
  'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN', 'MAC_OVERRIDE', 'MKNOD',
  'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'PERFMON', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYSLOG', 'SYS_ADMIN',
  'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE', 'SYS_RAWIO', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'WAKE_ALARM']);

/** Capabilities of the pod's containers that a container runtime would refuse (`ALL` is fine in `drop`). */
export function unknownCapabilities(pod: Obj): string[] {
  const out: string[] = [];
  for (const c of (pod['spec']?.['containers'] ?? []) as Obj[]) {
    const caps = c['securityContext']?.['capabilities'] ?? {};
    for (const [list, names] of [['add', caps['add'] ?? []], ['drop', caps['drop'] ?? []]] as const) {
      for (const n of names as string[]) {
        const bare = n.toUpperCase().replace(/^CAP_/, '');
        if (list === 'drop' && bare === 'ALL') continue;
        if (!linuxCapabilities.has(bare)) out.push(`${String(c['name'])}: unknown capability ${JSON.stringify(n)}`);
      }
    }
  }
  return out;
}

// ---- events -------------------------------------------------------------------------------------------

/**
 * ValidateEventCreate for core/v1 (events.go legacyValidateEvent): metadata (name a DNS subdomain), the
 * involved object's namespace must be the Event's; with eventTime set (a "new" event) reportingComponent,
 * reportingInstance, action and reason are required and bounded.
 */
export function validateEvent(ev: Obj): FieldError[] {
  const errs = validateObjectMeta(ev['metadata'], true);
  const ns = ev['metadata']?.['namespace'] ?? '';
  const involvedNs = ev['involvedObject']?.['namespace'] ?? '';
  if (!ev['eventTime']) {
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    } else if (ns !== involvedNs) errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    if (!involvedNs && ns !== 'kube-system') errs.push(invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    const rc = String(ev['reportingComponent'] ?? '');
    if (!rc) errs.push(required('reportingComponent'));
    for (const m of isQualifiedName(rc)) errs.push(invalid('reportingComponent', rc, m));
    const ri = String(ev['reportingInstance'] ?? '');
    if (!ri) errs.push(required('reportingInstance'));
    if (ri.length > 128) errs.push(invalid('reportingInstance', '', 'can have at most 128 characters'));
    const action = String(ev['action'] ?? '');
    if (!action) errs.push(required('action'));
    if (action.length > 128) errs.push(invalid('action', '', 'can have at most 128 characters'));
    const reason = String(ev['reason'] ?? '');
    if (!reason) errs.push(required('reason'));
    if (reason.length > 128) errs.push(invalid('reason', '', 'can have at most 128 characters'));
    if (String(ev['message'] ?? '').length > 1024) errs.push(invalid('message', '', 'can have at most 1024 characters'));
  }
  return errs;
}
