export { buildPicture } from './build.js';
export { renderDot } from './dot.js';
export { renderMermaid } from './mermaid.js';
export type { Arrow, Box, Group, Picture } from './model.js';
