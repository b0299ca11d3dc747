import { API_VERSION, GROUP, VERSION } from '../common.js';
import { KINDS } from '../kinds.js';
import { eventsApiGroup } from './events.js';

const groupVersion = { groupVersion: API_VERSION, version: VERSION };

/** GET /apis: the group served, and events.k8s.io (read-only Events, http/events.ts). */
export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroup(), eventsApiGroup()] };
}

/** GET /apis/clusterless.dev */
export function apiGroup() {
  return { kind: 'APIGroup', apiVersion: 'v1', name: GROUP, versions: [groupVersion], preferredVersion: groupVersion };
}

/** GET /apis/clusterless.dev/v1alpha1: what kubectl and client generators read to find the resources. */
export function apiResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: API_VERSION,
    resources: KINDS.flatMap((k) => [
      {
        name: k.plural,
        singularName: k.singular,
        namespaced: true,
        kind: k.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
        shortNames: [...k.shortNames],
        ...(k.categories ? { categories: [...k.categories] } : {}),
      },
      { name: `${k.plural}/status`, singularName: '', namespaced: true, kind: k.kind, verbs: ['get', 'patch', 'update'] },
      ...(k.kind === 'MachineDeployment'
        ? [{ name: `${k.plural}/rollback`, singularName: '', namespaced: true, kind: 'MachineDeploymentRollback', verbs: ['create'] }]
        : []),
    ]),
  };
}
