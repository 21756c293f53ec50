// HTTP API routes, Dkron-compatible. Used by the server router and the client.
export const API = {
  root: "/v1",
  health: "/health",
  jobs: "/v1/jobs",
  job: (name: string) => `/v1/jobs/${encodeURIComponent(name)}`,
  jobRun: (name: string) => `/v1/jobs/${encodeURIComponent(name)}/run`,
  jobToggle: (name: string) => `/v1/jobs/${encodeURIComponent(name)}/toggle`,
  jobExecutions: (name: string) => `/v1/jobs/${encodeURIComponent(name)}/executions`,
  jobExecution: (name: string, id: string) =>
    `/v1/jobs/${encodeURIComponent(name)}/executions/${encodeURIComponent(id)}`,
  executions: "/v1/executions",
  executionKill: (id: string) => `/v1/executions/${encodeURIComponent(id)}/kill`,
  jobExecutionKill: (name: string, id: string) =>
    `/v1/jobs/${encodeURIComponent(name)}/executions/${encodeURIComponent(id)}/kill`,
  members: "/v1/members",
  leader: "/v1/leader",
  isLeader: "/v1/isleader",
  busy: "/v1/busy",
  leave: "/v1/leave",
} as const;

export const DEFAULT_ADDRESS = "http://127.0.0.1:8080";
