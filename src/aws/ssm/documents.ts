// Session documents ORCA owns (e.g. its exec document): created when missing, replaced when their
// content differs (UpdateDocument, then that version made the default, since StartSession runs the
// default version), remembered per name so a process checks each document once.
import {
  CreateDocumentCommand, DescribeDocumentCommand, GetDocumentCommand, UpdateDocumentCommand, UpdateDocumentDefaultVersionCommand, type SSMClient,
} from '@aws-sdk/client-ssm';
import { SessionError } from '../../domain/errors.js';
import { withSignal } from '../sdk-util.js';
import type { SessionLog } from './channel-config.js';
import { awsErrorName, sessionErrorFrom } from './session-errors.js';

/** The one SSM client call the session code uses. */
export type SsmSend = Pick<SSMClient, 'send'>;

export interface SessionDocumentsDeps {
  readonly ssm: SsmSend;
  readonly log: SessionLog;
}

/** Equal as JSON values (key order and spacing as written), or as trimmed text when either is not JSON. */
export function sameDocumentContent(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a.trim() === b.trim();
  }
}

interface Ensured {
  readonly content: string;
  readonly done: Promise<void>;
}

export class SessionDocuments {
  readonly #d: SessionDocumentsDeps;
  readonly #ensured = new Map<string, Ensured>();

  constructor(deps: SessionDocumentsDeps) {
    this.#d = deps;
  }

  /** Makes sure `name` is a Session document with `content`; concurrent and later calls share the work. */
  ensure(name: string, content: string, signal?: AbortSignal): Promise<void> {
    const known = this.#ensured.get(name);
    if (known?.content === content) return known.done;
    const done = this.#reconcile(name, content, signal);
    this.#ensured.set(name, { content, done });
    done.catch(() => {
      if (this.#ensured.get(name)?.done === done) this.#ensured.delete(name);
    });
    return done;
  }

  async #reconcile(name: string, content: string, signal: AbortSignal | undefined): Promise<void> {
    const current = await this.#current(name, signal);
    if (current === undefined) {
      if (await this.#create(name, content, signal)) return;
      return this.#reconcileExisting(name, content, await this.#current(name, signal), signal);
    }
    return this.#reconcileExisting(name, content, current, signal);
  }

  async #reconcileExisting(name: string, content: string, current: string | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (current !== undefined && sameDocumentContent(current, content)) return;
    await this.#update(name, content, signal);
  }

  /** The default version's content; undefined when there is no such document. */
  async #current(name: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    try {
      const r = await this.#d.ssm.send(new GetDocumentCommand({ Name: name, DocumentFormat: 'JSON' }), withSignal(signal));
      return r.Content ?? '';
    } catch (e) {
      if (awsErrorName(e) === 'InvalidDocument') return undefined;
      throw this.#failure(e, 'GetDocument', signal);
    }
  }

  /** False when someone else created it first. */
  async #create(name: string, content: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.#d.ssm.send(new CreateDocumentCommand({ Name: name, Content: content, DocumentType: 'Session', DocumentFormat: 'JSON' }), withSignal(signal));
      this.#d.log.debug({ document: name }, 'created the Session document');
      return true;
    } catch (e) {
      if (awsErrorName(e) === 'DocumentAlreadyExists') return false;
      throw this.#failure(e, 'CreateDocument', signal);
    }
  }

  async #update(name: string, content: string, signal: AbortSignal | undefined): Promise<void> {
    const version = await this.#newVersion(name, content, signal);
    try {
      await this.#d.ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }), withSignal(signal));
    } catch (e) {
      throw this.#failure(e, 'UpdateDocumentDefaultVersion', signal);
    }
    this.#d.log.warn({ document: name, version }, 'replaced the content of the Session document, which differed from what ORCA runs');
  }

  /** The version holding `content`: a new one, or $LATEST when it already has that content. */
  async #newVersion(name: string, content: string, signal: AbortSignal | undefined): Promise<string> {
    const version = await this.#send(name, signal, async (options) => {
      try {
        const r = await this.#d.ssm.send(new UpdateDocumentCommand({ Name: name, Content: content, DocumentVersion: '$LATEST', DocumentFormat: 'JSON' }), options);
        return r.DocumentDescription?.DocumentVersion;
      } catch (e) {
        if (awsErrorName(e) !== 'DuplicateDocumentContent') throw e;
        const d = await this.#d.ssm.send(new DescribeDocumentCommand({ Name: name }), options);
        return d.Document?.LatestVersion;
      }
    });
    if (version === undefined || version === '') throw new SessionError('invalid-document', `UpdateDocument returned no version for the Session document ${name}`);
    return version;
  }

  async #send<T>(name: string, signal: AbortSignal | undefined, call: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await call(withSignal(signal));
    } catch (e) {
      throw this.#failure(e, `UpdateDocument (${name})`, signal);
    }
  }

  #failure(e: unknown, api: string, signal: AbortSignal | undefined): unknown {
    return signal?.aborted === true ? signal.reason : sessionErrorFrom(e, api);
  }
}
