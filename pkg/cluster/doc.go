// Package cluster runs touchtrail past one machine over NATS JetStream:
// ingest nodes publish touchpoints to one stream, store nodes consume their
// partitions of it into their own Badger, query nodes route a visitor's
// trail to a store owning it, scatter site-wide questions to the stores
// and merge the stores' streams of whole trails.
//
// # The stream
//
// One JetStream stream (default "TOUCHTRAIL") with one subject per
// partition, <Subject>.<p>, where p = Partition(site, visitor, P):
// xxhash64 over the site id, a zero byte and the visitor's 16 bytes, modulo
// P. P is fixed when the stream is created and recorded in its metadata
// (touchtrail.partitions); every node reads it back, so two nodes can
// never disagree on where a visitor lives. (NATS's own deterministic
// subject mapping, partition(P, tokens…), hashes subject tokens on the
// server; computing the partition here keeps it a pure, pinned function of
// the data, usable by query nodes without a round trip, and the subject
// free of the visitor id.) A message is the touchpoint's binary storage
// encoding (event.AppendBinary), with the JetStream message id
// "site/visitor/event id": the stream's duplicate window drops a retry,
// and the message id carries the store key's site and visitor.
//
// # Guarantees
//
// A Publisher in sync mode returns from Submit once JetStream acknowledged
// every message (stored by a quorum when the stream is replicated); async
// returns at once and refuses with store.ErrUnavailable after a failed
// acknowledgement until the stream answers again. A Consumer (one durable
// pull consumer per store, filtered to its partitions) hands batches to
// the store's group-commit writer and acknowledges them only after the
// commit returned; whatever was not acknowledged is redelivered after
// AckWait, and the store's dedupe by id makes redelivery harmless. A store
// on an empty directory (ConsumerConfig.Fresh) or with new partitions gets
// a new consumer that replays the stream from its start.
//
// # Identity and erasure across partitions
//
// An identify also publishes its user↔visitor link on the user's
// partition (UserPartition), so one owner of it lists a user's visitors
// wherever they live (Router.UserVisitors). An erasure goes through the
// stream: an erase message on every partition concerned, applied by each
// store in stream order with the message's time (so a replay applies it
// the same way), the erased messages deleted from the stream, and the
// answer once every live owner confirmed (Router.EraseVisitorReport,
// EraseUserReport). Stream messages other than touchpoints carry the
// header Touchtrail-Op ("link", "erase"); see identity.go and erase.go.
//
// # Site-wide questions
//
// A query node's Router.Scatter sends a site-wide question (opaque bytes:
// the collector's) to one live owner of every partition, read from the
// membership bucket; partitions are batched per store, so each store scans
// once, on <Subject>.scatter.<node>. A store's ScatterServer runs the
// question's AggregateFunc over its visitors of the partitions asked for
// and answers a partial result, which the query node merges. A store that
// fails or does not answer within Router.Timeout is replaced by another
// live owner of its partitions; what nobody answered for comes back as
// Missing, so that the answer can say it is partial.
//
// # Whole trails across stores
//
// Router.ScanTrails (the export, the UI's pages) opens a scan session on
// one live owner of every partition (<Subject>.scan.<node>, served by a
// ScanServer over the collector's ScanFunc). Each store streams the
// trails of its visitors of the partitions asked, in visitor-id order, in
// chunks of at most Router.ScanChunk bytes, one per pull of the query node,
// so a slow reader makes the store wait rather than buffer; the query node
// merges the streams by visitor id, as one store's scan orders them. A
// store that fails mid-stream is replaced by another owner, resuming after
// the last visitor given; partitions left without a store fail the scan
// with a *PartitionsError naming them (a scan is never partial); the
// caller's deadline or cancellation stops the stores' scans. See scan.go
// and scanroute.go.
//
// # Usage
//
//	nc, _ := cluster.Connect("nats://a:4222,nats://b:4222", "ingest-1", log)
//	pub, _ := cluster.NewPublisher(ctx, nc, cluster.PublisherConfig{
//		Stream: cluster.StreamConfig{Partitions: 32, Replicas: 3}}, log)
//	_ = pub.Submit(ctx, recs) // the collector's submitter
//
//	w := store.NewWriter(badgerStore, store.WriterConfig{Mode: store.Sync}, log)
//	cons, _ := cluster.NewConsumer(ctx, nc, w, cluster.ConsumerConfig{
//		Node: "store-a", Partitions: []int{0, 1, 2, 3}}, log)
//	defer cons.Close(ctx)
//
// StartNode does all of it by role, with membership (Join, Members: a
// key-value bucket whose entries expire without heartbeats); the collector's
// AssembleNode builds a node's whole stack. natstest runs real NATS servers
// in-process for tests.
package cluster
