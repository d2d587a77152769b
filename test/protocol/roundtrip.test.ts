// The generated wire contract works end to end over a real grpc-js server on 127.0.0.1:
// every RPC, the streaming acquire, and the PSK / daemon id call metadata.
import {
  credentials,
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authenticateCall,
  buildCallMetadata,
  isRefusal,
} from "../../src/coderd/adapters/grpc-call-metadata.js";
import {
  LogLevel,
  ParameterDestination_Scheme,
  WorkspaceTransition,
} from "../../src/proto/provisioner.js";
import {
  type AcquiredJob,
  AcquiredJob as AcquiredJobMessage,
  type AcquireStreamRequest,
  CommitQuotaResponse,
  Empty,
  LogSource,
  ProvisionerDaemonClient,
  type ProvisionerDaemonServer,
  ProvisionerDaemonService,
  UpdateJobResponse,
} from "../../src/proto/provisionerd.js";

const PSK = "correct-horse-battery-staple";
const DAEMON_ID = "5f0c2f55-7d4e-4a53-9f3e-2f4a0c1d9b11";

interface Seen {
  method: string;
  daemonId: string;
  request: unknown;
}

/** A server that records what arrives and answers with recognisable values. */
function recordingServer(seen: Seen[]): ProvisionerDaemonServer {
  const authed = <Req>(method: string, call: { metadata: Metadata; request?: Req }) => {
    const auth = authenticateCall(call.metadata, PSK);
    if (isRefusal(auth)) return auth;
    seen.push({ method, daemonId: auth.daemonId, request: call.request });
    return undefined;
  };
  const unary =
    <Req, Res>(method: string, answer: (req: Req) => Res) =>
    (
      call: ServerUnaryCall<Req, Res>,
      callback: (err: Partial<ServiceError> | null, res?: Res) => void,
    ) => {
      const refusal = authed(method, call);
      if (refusal) return callback(refusal);
      callback(null, answer(call.request));
    };
  return {
    acquireJob: unary("AcquireJob", (req) =>
      AcquiredJobMessage.fromPartial({
        jobId: `job-for-${req.daemon?.name}`,
        provisioner: "terraform",
      }),
    ),
    updateJob: unary("UpdateJob", (req) =>
      UpdateJobResponse.fromPartial({
        canceled: req.logs.length === 2,
        parameterValues: req.parameterSchemas.map((s) => ({
          name: s.name,
          value: "resolved",
          destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
        })),
      }),
    ),
    commitQuota: unary("CommitQuota", (req) =>
      CommitQuotaResponse.fromPartial({
        ok: req.dailyCost <= 10,
        creditsConsumed: req.dailyCost,
        budget: 10,
      }),
    ),
    failJob: unary("FailJob", () => Empty.create()),
    completeJob: unary("CompleteJob", () => Empty.create()),
    streamAcquireJobs: (call) => {
      const refusal = authed("StreamAcquireJobs", call);
      if (refusal) {
        call.emit("error", refusal);
        return;
      }
      let pushed = 0;
      call.on("data", (req: AcquireStreamRequest) => {
        seen.push({ method: "StreamAcquireJobs.message", daemonId: "", request: req });
        if (req.type?.$case === "ready") {
          for (let i = 0; i < req.type.value.slots; i++) {
            pushed++;
            call.write(AcquiredJobMessage.fromPartial({ jobId: `pushed-${pushed}` }));
          }
        } else if (req.type?.$case === "withdraw") {
          call.end();
        }
      });
    },
  };
}

let server: Server;
let address: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = new Server();
  server.addService(ProvisionerDaemonService, recordingServer(seen));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => server.forceShutdown());

function client() {
  return new ProvisionerDaemonClient(address, credentials.createInsecure());
}

function call<Res>(
  invoke: (cb: (err: ServiceError | null, res: Res) => void) => void,
): Promise<Res> {
  return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res))));
}

describe("wire protocol round trip", () => {
  const metadata = () => buildCallMetadata({ psk: PSK, daemonId: DAEMON_ID });

  it("carries every unary RPC with its metadata", async () => {
    const c = client();
    const job = await call<AcquiredJob>((cb) =>
      c.acquireJob(
        {
          daemon: {
            id: DAEMON_ID,
            name: "pool-a-1",
            version: "0.1.0",
            provisioners: ["terraform"],
            tags: { pool: "a" },
          },
          waitMs: 0,
        },
        metadata(),
        cb,
      ),
    );
    expect(job.jobId).toBe("job-for-pool-a-1");

    const update = await call<UpdateJobResponse>((cb) =>
      c.updateJob(
        {
          jobId: "j1",
          logs: [1, 2].map((sequence) => ({
            source: LogSource.PROVISIONER,
            level: LogLevel.INFO,
            createdAt: Date.now(),
            stage: "Planning infrastructure",
            output: `line ${sequence}`,
            sequence,
          })),
          parameterSchemas: [
            {
              name: "region",
              description: "",
              allowOverrideSource: true,
              allowOverrideDestination: false,
              redisplayValue: true,
              validationTypeSystem: 0,
              validationValueType: "string",
              validationError: "",
              validationCondition: "",
              validationContains: [],
            },
          ],
          templateVariables: [],
          userVariableValues: [],
          readme: Buffer.from("# hello"),
          workspaceTags: {},
        },
        metadata(),
        cb,
      ),
    );
    expect(update.canceled).toBe(true);
    expect(update.parameterValues).toEqual([
      {
        name: "region",
        value: "resolved",
        destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
        sensitive: false,
      },
    ]);

    const quota = await call<CommitQuotaResponse>((cb) =>
      c.commitQuota({ jobId: "j1", dailyCost: 11 }, metadata(), cb),
    );
    expect(quota).toEqual({ ok: false, creditsConsumed: 11, budget: 10 });

    await call((cb) =>
      c.failJob(
        {
          jobId: "j1",
          error: "insufficient quota",
          errorCode: "QUOTA",
          type: { $case: "workspaceBuild", value: { state: Buffer.from("{}") } },
        },
        metadata(),
        cb,
      ),
    );
    await call((cb) =>
      c.completeJob(
        {
          jobId: "j2",
          type: {
            $case: "workspaceBuild",
            value: {
              state: Buffer.from("state"),
              resources: [
                {
                  name: "dev",
                  type: "terraform_data",
                  agents: [],
                  metadata: [],
                  hide: false,
                  icon: "",
                  instanceType: "",
                  dailyCost: 3,
                  modulePath: "",
                },
              ],
            },
          },
        },
        metadata(),
        cb,
      ),
    );
    c.close();

    const byMethod = new Map(seen.map((s) => [s.method, s]));
    for (const method of ["AcquireJob", "UpdateJob", "CommitQuota", "FailJob", "CompleteJob"]) {
      expect(byMethod.get(method)?.daemonId, method).toBe(DAEMON_ID);
    }
    const updateSeen = byMethod.get("UpdateJob")?.request as {
      logs: { sequence: number }[];
      readme: Buffer;
    };
    expect(updateSeen.logs.map((l) => l.sequence)).toEqual([1, 2]);
    expect(updateSeen.readme.toString()).toBe("# hello");
    const failSeen = byMethod.get("FailJob")?.request as {
      errorCode: string;
      type: { $case: string; value: { state: Buffer } };
    };
    expect(failSeen.errorCode).toBe("QUOTA");
    expect(failSeen.type.value.state.toString()).toBe("{}");
    const completeSeen = byMethod.get("CompleteJob")?.request as {
      type: { value: { resources: { dailyCost: number }[] } };
    };
    expect(completeSeen.type.value.resources[0]?.dailyCost).toBe(3);
  });

  it("pushes jobs over the streaming acquire as slots are offered", async () => {
    const c = client();
    const stream = c.streamAcquireJobs(metadata());
    const received: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on("data", (job: AcquiredJob) => {
        received.push(job.jobId);
        if (received.length === 3) stream.write({ type: { $case: "withdraw", value: {} } });
      });
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    stream.write({
      type: {
        $case: "ready",
        value: {
          slots: 2,
          daemon: { id: DAEMON_ID, name: "d", version: "v", provisioners: ["terraform"], tags: {} },
        },
      },
    });
    stream.write({ type: { $case: "ready", value: { slots: 1 } } });
    await ended;
    stream.end();
    c.close();
    expect(received).toEqual(["pushed-1", "pushed-2", "pushed-3"]);
    expect(seen.find((s) => s.method === "StreamAcquireJobs")?.daemonId).toBe(DAEMON_ID);
    const kinds = seen
      .filter((s) => s.method === "StreamAcquireJobs.message")
      .map((s) => (s.request as AcquireStreamRequest).type?.$case);
    expect(kinds).toEqual(["ready", "ready", "withdraw"]);
  });

  it("refuses a wrong PSK with UNAUTHENTICATED and says so", async () => {
    const c = client();
    const wrong = buildCallMetadata({ psk: "not-the-key", daemonId: DAEMON_ID });
    const err = await call((cb) => c.acquireJob({ waitMs: 0 }, wrong, cb)).catch(
      (e: ServiceError) => e,
    );
    expect((err as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect((err as ServiceError).details).toBe("provisioner daemon pre-shared key is invalid");
    expect((err as ServiceError).details).not.toContain("not-the-key");

    const stream = c.streamAcquireJobs(wrong);
    const streamErr = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
    expect(streamErr.code).toBe(status.UNAUTHENTICATED);
    c.close();
  });

  it("refuses a call without a PSK", async () => {
    const c = client();
    const err = await call((cb) =>
      c.updateJob(
        {
          jobId: "x",
          logs: [],
          parameterSchemas: [],
          templateVariables: [],
          userVariableValues: [],
          readme: Buffer.alloc(0),
          workspaceTags: {},
        },
        cb,
      ),
    ).catch((e: ServiceError) => e);
    expect((err as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect((err as ServiceError).details).toMatch(/pre-shared key missing/);
    c.close();
  });

  it("keeps the transition enum numbering of the reference", () => {
    expect([
      WorkspaceTransition.START,
      WorkspaceTransition.STOP,
      WorkspaceTransition.DESTROY,
    ]).toEqual([0, 1, 2]);
  });
});
