/** The repository root, from src/ or dist/ alike: where topologies/, schemas/, data/, tools/ and .cache/ live. */
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));
