/**
 * The part of @kubernetes/client-node that netchaos uses, and the one module that loads it at run time
 * (src/kube/api.ts imports this file lazily; elsewhere the package is imported for types only).
 *
 * Why a list: the build bundles this file into dist/vendor-kube.cjs (scripts/bundle.mjs), and a bundle of the
 * names below is 2.3 MB against 5.4 MB for the whole package. Importing the package as the ES module it is
 * (hundreds of files) cost 1.2-1.5 s and 115-125 MB on the host before the first API call of every Litmus run;
 * the bundle of these names loads in 0.35 s, 65 MB. A name used from the loaded module that is not exported
 * here does not type-check (api.ts types the module as `typeof import('./client-node.js')`).
 */
export { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, Exec, KubeConfig, Observable, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
