/** How a worker batches: new prompts join its running batch between steps, or each call runs as one closed batch. */
export const BATCHING_MODES = ['continuous', 'static'] as const;
export type Batching = (typeof BATCHING_MODES)[number];
