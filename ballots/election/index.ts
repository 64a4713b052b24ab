export * from './schema';
export * from './problems';
export * from './validate';
export * from './load';
export * from './contest-options';
export { jcsCanonicalJson } from './canonical';
export * from './contest-result';
