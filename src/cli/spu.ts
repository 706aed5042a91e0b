import { Command } from 'commander';

/** `tide spu`: runs a Streaming Processing Unit in the foreground. */
export function spuCommand(run: (options: Record<string, string | boolean>) => Promise<void>): Command {
  return new Command('spu')
    .description(
      'run a Streaming Processing Unit: standalone (it owns every partition), or in a cluster with --sc',
    )
    .option('--id <n>', 'SPU id; default ports are 9092+id-1 (Kafka) and 9292+id-1 (HTTP)', '1')
    .option('--listen <host:port>', 'Kafka listener address (port 0 picks a free one)')
    .option('--advertise <host:port>', 'address clients are told to connect to')
    .option('--http <host:port|off>', 'metrics and health endpoint')
    .option('--data-dir <dir>', 'where partitions are stored (default ~/.tide/spu-<id>)')
    .option('--rack <rack>', 'rack or zone, for replica placement')
    .option('--log-level <level>', 'debug, info, warn, error or silent')
    .option('--auto-create-topics', 'create topics that clients ask for', false)
    .option('--num-partitions <n>', 'partitions of an auto-created topic (default 1)')
    .option('--default-replication-factor <n>', 'replicas of an auto-created topic (default 1)')
    .option('--cluster-id <id>', 'cluster id reported to clients')
    .option('--sc <host:port>', 'join the cluster of the Streaming Controller at this address')
    .option(
      '--internal <host:port>',
      'internal listener for the SC and replication, with --sc (default 127.0.0.1:9192+id-1, loopback: it is not authenticated; port 0 picks a free one)',
    )
    .option('--connections-max <n>', 'client connections open at once; more are closed (default 10000)')
    .option(
      '--connections-max-idle-ms <ms>',
      'ms a client connection with nothing in progress may stay silent before it is closed (default 600000)',
    )
    .option(
      '--inflight-requests-max <n>',
      'requests in progress per connection before reading pauses (default 64)',
    )
    .option(
      '--replica-lag-time-max-ms <ms>',
      'ms a follower may lag before its leader drops it from the ISR (default 10000)',
    )
    .option(
      '--replication-routes <id=host:port,...>',
      'fetch replicas from leader SPU <id> at <host:port> instead of its internal address (fault-injection proxies)',
    )
    .option('--offsets-topic-partitions <n>', 'partitions of __consumer_offsets when created (default 50)')
    .option(
      '--group-initial-rebalance-delay-ms <ms>',
      'ms a new consumer group waits for more members before its first rebalance (default 3000)',
    )
    .option(
      '--group-min-session-timeout-ms <ms>',
      'smallest session timeout a group member may ask (default 6000)',
    )
    .option('--group-max-size <n>', 'members one consumer group may have (default 1000)')
    .option(
      '--offsets-retention-minutes <min>',
      'how long offsets of an empty group are kept (default 10080)',
    )
    .action(async (options: Record<string, string | boolean>) => {
      await run(options);
    });
}
