import { FastVlmError } from '@fastvlm/tensor';

/** What went wrong talking to the hub, for callers that react to some kinds (tests, retries). */
export type HubProblem =
  | 'not-found' // 404: repository, revision or file
  | 'unauthorized' // 401/403: private or gated repository, or a bad token
  | 'unreachable' // no network, DNS failure, connection refused, connect timeout
  | 'dropped' // the connection broke or stalled mid-transfer, retries used up
  | 'size-mismatch'
  | 'hash-mismatch'
  | 'unsafe-path' // the listing names a path outside the output folder
  | 'bad-response' // the hub answered something this client cannot read
  | 'http' // any other HTTP status
  | 'filesystem' // the output folder or a file in it could not be written
  | 'too-large' // the listing exceeds its limits
  | 'disk-space' // the files to download do not fit in the free space of the output folder
  | 'usage'; // a malformed repository id, revision or hub address

/** A download from the Hugging Face Hub failed; the message names the repository, the file and why. */
export class HubError extends FastVlmError {
  readonly repo: string;
  /** The file at fault (its path in the repository), when the problem is one file's. */
  readonly file: string | undefined;
  readonly problem: HubProblem;
  /** What is wrong, without the repository and file names. */
  readonly detail: string;
  constructor(
    repo: string,
    file: string | undefined,
    problem: HubProblem,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('HUB', `${repo}${file === undefined ? '' : ` ${file}`}: ${detail}`, options);
    this.repo = repo;
    this.file = file;
    this.problem = problem;
    this.detail = detail;
  }
}
