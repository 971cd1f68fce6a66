export * from './pipelineConfig.js';
export * from './envVars.js';
