/** The schedulers the Linux IPVS code ships (ip_vs_<name> modules). */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh'];

/** kpc's own per-Service choice of scheduler; kube-proxy has only the node-wide one. */
export const SCHEDULER_ANNOTATION = 'kpc.dev/ipvs-scheduler';
