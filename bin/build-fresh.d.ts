/** Whether dist/server is newer than every source it was made from (build-fresh.js). */
export function buildIsFresh(root: URL): boolean;
