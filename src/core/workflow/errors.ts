/** The workflow changed since it was read: the caller's decision was made on old state. */
export class StaleVersionError extends Error {
  constructor(
    readonly workflowId: string,
    readonly expectedVersion: number,
  ) {
    super(`Workflow ${workflowId} is no longer at version ${expectedVersion}`);
    this.name = 'StaleVersionError';
  }
}

export class WorkflowNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`Workflow ${workflowId} does not exist`);
    this.name = 'WorkflowNotFoundError';
  }
}
