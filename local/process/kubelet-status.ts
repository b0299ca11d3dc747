/**
 * What a healthy kubelet posts as its Node's conditions (kubelet pkg/kubelet/nodestatus/setters.go): no pressure
 * and Ready, each with a fresh heartbeat; a transition time stays while the status does. The pressures count too: a
 * machine's NodeHealthy wants Ready True and each pressure False (functions/core/machine/node-conditions.ts).
 * Played by the process provider's node agent and the emulated account's.
 */
const KUBELET_CONDITIONS = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
] as const;

/** The API's timestamp form (metav1.Time: RFC 3339, whole seconds). */
export const rfc3339 = (t: Date | string): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The conditions to post now, given the Node's current ones. */
export function healthyKubeletConditions(
  current: readonly { type: string; status: string; lastTransitionTime?: Date | string | undefined }[] | undefined,
  now: Date,
): Record<string, string>[] {
  return KUBELET_CONDITIONS.map(({ type, status, reason, message }) => {
    const seen = current?.find((c) => c.type === type);
    const since = seen?.status === status && seen.lastTransitionTime ? seen.lastTransitionTime : now;
    return { type, status, reason, message, lastHeartbeatTime: rfc3339(now), lastTransitionTime: rfc3339(since) };
  });
}
