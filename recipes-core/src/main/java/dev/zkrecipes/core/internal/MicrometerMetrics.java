package dev.zkrecipes.core.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;

/**
 * {@link RecipeMetrics} as Micrometer meters. Only this class names Micrometer types, and it is
 * loaded only for a client built with a registry, so Micrometer stays an optional dependency.
 * Meters are looked up once per name and tag set and kept.
 */
public final class MicrometerMetrics implements RecipeMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> leaders = new ConcurrentHashMap<>();
    private final Map<Tags, Counter> counters = new ConcurrentHashMap<>();
    private final Map<Tags, Timer> timers = new ConcurrentHashMap<>();
    // the meters of the hot paths, found once per queue: a task costs no lookups, no allocations
    private final Map<String, QueueMeters> queues = new ConcurrentHashMap<>();

    /** One queue's meters. */
    private final class QueueMeters {
        final Counter put;
        final Counter[] deliveries = new Counter[5];
        final Timer age;
        final Counter ack;
        final Timer claimToAck;
        final Counter release;
        final Counter dead;

        QueueMeters(String queue) {
            Tags q = Tags.of("queue", queue);
            put = counter("zkr.queue.put", "tasks put", q);
            for (int i = 0; i < deliveries.length; i++) {
                deliveries[i] = counter("zkr.queue.deliveries", "tasks handed to a consumer, by attempt",
                        q.and("attempt", i == 4 ? "5+" : Integer.toString(i + 1)));
            }
            age = timer("zkr.queue.age", "time from put to delivery", q);
            ack = counter("zkr.queue.ack", "tasks acknowledged", q);
            claimToAck = timer("zkr.queue.claim.to.ack", "time from claim to acknowledgement", q);
            release = counter("zkr.queue.release", "tasks given back for another delivery", q);
            dead = counter("zkr.queue.dead", "tasks moved to the dead letters", q);
        }
    }

    private QueueMeters queue(String name) {
        QueueMeters m = queues.get(name);
        return m != null ? m : queues.computeIfAbsent(name, QueueMeters::new);
    }

    private MicrometerMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /**
     * Meters for a client: its connection state now, and what its recipes report.
     *
     * @param registry a {@code MeterRegistry}, typed {@code Object} so that callers need not load it
     */
    public static RecipeMetrics create(Object registry, CuratorFramework curator) {
        MeterRegistry r = (MeterRegistry) registry;
        MicrometerMetrics m = new MicrometerMetrics(r);
        AtomicInteger connected = new AtomicInteger();
        Gauge.builder("zkr.connection.state", connected, AtomicInteger::get)
                .description("1 while the client is connected to the ensemble, 0 while not").register(r);
        curator.getConnectionStateListenable().addListener((client, state) -> {
            connected.set(state.isConnected() ? 1 : 0);
            m.counter("zkr.connection.changes", "ConnectionState changes: SUSPENDED, RECONNECTED, LOST (the"
                    + " session expired), ...", Tags.of("state", state.name())).increment();
        });
        return m;
    }

    private Counter counter(String name, String description, Tags tags) {
        return counters.computeIfAbsent(tags.and("meter", name), k -> Counter.builder(name).description(description)
                .tags(tags).register(registry));
    }

    private Timer timer(String name, String description, Tags tags) {
        return timers.computeIfAbsent(tags.and("meter", name), k -> Timer.builder(name).description(description)
                .tags(tags).register(registry));
    }

    @Override
    public void leadership(String election, String participant, boolean leads, String reason) {
        AtomicInteger gauge = leaders.computeIfAbsent(election + "\u0000" + participant, k -> {
            AtomicInteger g = new AtomicInteger();
            Gauge.builder("zkr.election.leader", g, AtomicInteger::get).description("1 while this participant leads")
                    .tags("election", election, "participant", participant).register(registry);
            return g;
        });
        gauge.set(leads ? 1 : 0);
        counter("zkr.election.terms", "terms begun, and ended by reason", Tags.of("election", election,
                "participant", participant, "event", leads ? "begun" : "ended", "reason", reason == null ? "none" : reason))
                .increment();
    }

    @Override
    public void lockAcquire(String lock, String outcome, long waitNanos) {
        timer("zkr.lock.acquire", "time to acquire, by outcome", Tags.of("lock", lock, "outcome", outcome))
                .record(waitNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void lockHeld(String lock, long heldNanos, boolean lost) {
        timer("zkr.lock.held", "how long holds lasted, by how they ended", Tags.of("lock", lock, "end",
                lost ? "lost" : "released")).record(heldNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queuePut(String queue, int tasks) {
        queue(queue).put.increment(tasks);
    }

    @Override
    public void queueDelivered(String queue, int attempt, long ageMillis) {
        QueueMeters m = queue(queue);
        m.deliveries[Math.max(0, Math.min(4, attempt - 1))].increment();
        m.age.record(Math.max(0, ageMillis), TimeUnit.MILLISECONDS);
    }

    @Override
    public void queueAck(String queue, long claimToAckNanos) {
        QueueMeters m = queue(queue);
        m.ack.increment();
        m.claimToAck.record(claimToAckNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queueRelease(String queue) {
        queue(queue).release.increment();
    }

    @Override
    public void queueDead(String queue) {
        queue(queue).dead.increment();
    }

    @Override
    public void storeChanged(String store, int changes) {
        counter("zkr.store.changes", "changes applied to the local copy of a config or file store", Tags.of("store", store))
                .increment(changes);
    }
}
