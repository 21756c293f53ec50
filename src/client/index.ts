export {
  DkronClient,
  DEFAULT_TIMEOUT_MS,
  normalizeAddress,
  type DkronClientOptions,
  type ListAllExecutionsQuery,
  type ListExecutionsQuery,
  type ListJobsQuery,
  type Page,
  type ServerInfo,
  type SortOrder,
} from "./http.js";
