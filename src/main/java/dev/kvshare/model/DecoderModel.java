package dev.kvshare.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX decoder with explicit past KV. A forward pass takes new token ids and the past
 * {@link KvCache}, and returns the extended cache built from the pass's present outputs, which stay native
 * and become the next pass's past as they are. Thread-safe: concurrent requests share the session.
 *
 * <p>Every cache, batch and logits buffer a method returns is new and belongs to the caller (who closes it,
 * or tracks it in a {@link NativeScope}); a past passed in stays the caller's. The model's own natives (the
 * session, the empty cache's tensors) live in its scope until {@link #close()}, and its {@link LiveTensors}
 * counts the rest.
 */
public final class DecoderModel implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DecoderModel.class);

    private final OrtEnvironment env;
    private final NativeScope natives = new NativeScope();
    private final LiveTensors liveTensors = new LiveTensors();
    private final OrtSession session;
    private final DecoderIo io;
    private final int prefillChunk;
    private final Set<String> presentOutputs;
    private final KvCache empty;
    private final boolean continuesWithManyTokens;
    private final KvPacker packer;
    private final boolean batchesRowsOfDifferentLengths;
    private final LongAdder sessionRunNanos = new LongAdder();

    /** @param session owned by this model from the call on: closed with it, or here if construction fails */
    DecoderModel(OrtEnvironment env, OrtSession session, DecoderIo io, int prefillChunk) throws OrtException {
        this.env = env;
        this.session = natives.track(session);
        this.io = io;
        this.prefillChunk = prefillChunk;
        try {
            this.presentOutputs = new LinkedHashSet<>(io.presentOutputs());
            this.packer = new KvPacker(env, io.kv(), liveTensors);
            this.empty = new KvCache(zeroLengthPast(env, io.kv(), natives), 0, null, liveTensors);
            this.continuesWithManyTokens = probeManyTokensAfterPast();
            this.batchesRowsOfDifferentLengths = probeRowsOfDifferentLengths();
        } catch (OrtException | RuntimeException e) {
            natives.close();
            throw e;
        }
    }

    public DecoderIo io() {
        return io;
    }

    /** This model's native tensors held now ({@code kvshare_model_live_tensors}). */
    public LiveTensors liveTensors() {
        return liveTensors;
    }

    /** Moves this model's KV between caches and prompt-cache block payloads. */
    public KvBlocks kvBlocks() {
        return new KvBlocks(env, io.kv(), liveTensors);
    }

    /**
     * Time spent inside {@code OrtSession.run} so far, all threads: the rest of a request's time is the
     * service's own overhead (tensor handling, sampling, detokenizing, streaming).
     */
    public long sessionRunNanos() {
        return sessionRunNanos.sum();
    }

    /** The zero-length past every sequence starts from; shared, closing it does nothing. */
    public KvCache emptyCache() {
        return empty;
    }

    /** A logits buffer for {@link #step}; one per sequence, reused across its steps. */
    public Logits newLogits() {
        return newLogits(1);
    }

    /** A logits buffer for {@link #stepBatch} passes of {@code rows} rows. */
    public Logits newLogits(int rows) {
        try {
            return new Logits(env, io.logitsType(), io.vocabSize(), rows, liveTensors);
        } catch (OrtException e) {
            throw new InferenceException("Could not allocate logits", e);
        }
    }

    /** Logits buffers for passes of up to {@code maxRows} rows, any number of them ({@link LogitsRoom}). */
    public LogitsRoom newLogitsRoom(int maxRows) {
        return new LogitsRoom(env, io.logitsType(), io.vocabSize(), maxRows, liveTensors);
    }

    /**
     * Whether the export accepts several new tokens after a non-empty past. ONNX Runtime GenAI builder
     * exports do not (their causal mask is either prompt-shaped or one token wide), so with them a prefill
     * continuing after a past (chunks, a restored prefix) runs one token per pass.
     */
    public boolean continuesWithManyTokens() {
        return continuesWithManyTokens;
    }

    /**
     * Whether one pass over a left-padded batch gives each row the argmax it gets alone and logits within the
     * export's own noise between pass shapes ({@link BatchProbe}: 1e-4 for fp32, more for quantized exports).
     * An export whose attention does not honour padding in the mask (one that derives positions or the causal
     * mask from the past's width alone, say) fails this, and then each sequence runs its own passes. The bundled
     * model, both reference exports and the quantized layouts of docs/models.md pass.
     */
    public boolean batchesRowsOfDifferentLengths() {
        return batchesRowsOfDifferentLengths;
    }

    /**
     * Runs {@code ids} after {@code past} without reading logits (prefill), in passes of at most
     * {@code kvshare.model.prefill-chunk} tokens. The caches between passes are freed here, also when a pass
     * fails.
     */
    public KvCache extend(int[] ids, KvCache past) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("extend needs at least one token");
        }
        try (NativeScope passes = new NativeScope()) {
            KvCache cache = past;
            for (int from = 0; from < ids.length; ) {
                int passLength = continuesWithManyTokens ? prefillChunk : cache.length() == 0 ? ids.length : 1;
                int[] chunk = Arrays.copyOfRange(ids, from, Math.min(ids.length, from + passLength));
                from += chunk.length;
                KvCache next = forward(chunk, cache, null);
                cache = cache == past ? passes.track(next) : passes.replace(cache, next);
            }
            return passes.detach(cache);
        }
    }

    /** Runs one token after {@code past} and writes the logits of its position into {@code logits}. */
    public KvCache step(int tokenId, KvCache past, Logits logits) {
        return forward(new int[] {tokenId}, past, logits);
    }

    /**
     * One batched decode pass: row {@code r} of {@code past} advances by {@code tokens[r]}, and its logits go to
     * row {@code r} of {@code logits}. The returned batch is one column wider (the batching probe's pass; the scheduler's is {@link #stepInPlace}).
     */
    public BatchedKv stepBatch(int[] tokens, BatchedKv past, Logits logits) {
        if (tokens.length != past.rows() || logits.rows() != past.rows()) {
            throw new IllegalArgumentException(tokens.length + " tokens and " + logits.rows()
                    + " logits rows for a batch of " + past.rows());
        }
        return advance(tokens, past, logits);
    }

    /** The running batch's KV, for {@link #stepInPlace}: rows join and leave it in place. */
    public KvArena newArena(int maxRows) {
        return new KvArena(env, io.kv(), packer, liveTensors, maxRows);
    }

    /**
     * One batched decode pass over {@code batch}, whose present ONNX Runtime writes into the batch's own spare
     * buffers (pinned outputs) so that it becomes the batch's past with no copy; row {@code r} advances by
     * {@code tokens[r]} and its logits go to row {@code r} of {@code logits}. On failure the batch is unchanged.
     * This is the one pass whose inputs and outputs a GPU would keep bound on the device.
     */
    public void stepInPlace(int[] tokens, KvArena batch, Logits logits) {
        if (tokens.length != batch.rows() || logits.rows() != batch.rows()) {
            throw new IllegalArgumentException(tokens.length + " tokens and " + logits.rows()
                    + " logits rows for a batch of " + batch.rows());
        }
        KvCache present = batch.present();
        try (KvCache.Lease lease = batch.past().lease();
             StepInputs inputs = new StepInputs(env, io, tokens, batch.lengths(), batch.past(), liveTensors)) {
            Map<String, OnnxValue> pinned = new HashMap<>();
            pinned.put(DecoderIo.LOGITS, logits.tensor());
            List<String> names = io.presentOutputs();
            for (int i = 0; i < names.size(); i++) {
                pinned.put(names.get(i), present.tensors().get(i));
            }
            long start = System.nanoTime();
            session.run(inputs.asMap(), Set.of(), pinned).close();
            sessionRunNanos.add(System.nanoTime() - start);
        } catch (OrtException | RuntimeException e) {
            present.close();
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new InferenceException("ONNX Runtime failed to run the decoder: " + e.getMessage(), e);
        }
        batch.advanced(present);
    }

    /**
     * Batched prefill: runs {@code ids.length / pasts.size()} new tokens after each of {@code pasts} (row
     * {@code r}'s are {@code ids[r * n .. (r + 1) * n)}) in passes of at most {@code kvshare.model.prefill-chunk}
     * tokens a row, the rows left-padded to one width as a decode batch is, and returns each row's extended
     * cache: a copy of its row of the last pass's output, the caller's to close. With {@code logits}, every row
     * runs one token and its logits go to row {@code r}. For exports that {@link #batchesRowsOfDifferentLengths
     * batch}; one that does not {@link #continuesWithManyTokens continue with many tokens} runs one token a row
     * per pass after a past, as {@link #extend} does.
     */
    public List<KvCache> extendRows(int[] ids, List<KvCache> pasts, Logits logits) {
        int rows = pasts.size();
        int perRow = ids.length / rows;
        if (perRow == 0 || ids.length % rows != 0 || (logits != null && (perRow != 1 || logits.rows() != rows))) {
            throw new IllegalArgumentException(ids.length + " tokens for " + rows + " rows"
                    + (logits == null ? "" : " with " + logits.rows() + " logits rows"));
        }
        try (NativeScope passes = new NativeScope()) {
            BatchedKv batch = passes.track(pack(pasts.stream().map(KvRow::of).toList()));
            for (int from = 0; from < perRow; ) {
                int passLength = Math.min(perRow - from,
                        continuesWithManyTokens ? prefillChunk : batch.width() == 0 ? perRow : 1);
                int[] chunk = new int[rows * passLength];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(ids, r * perRow + from, chunk, r * passLength, passLength);
                }
                from += passLength;
                batch = passes.replace(batch, advance(chunk, batch, logits));
            }
            List<KvCache> extended = new ArrayList<>(rows);
            try {
                for (int r = 0; r < rows; r++) {
                    extended.add(pack(List.of(batch.row(r))).cache());
                }
            } catch (RuntimeException e) {
                extended.forEach(KvCache::close);
                throw e;
            }
            return extended;
        }
    }

    /** One pass of {@code ids.length / past.rows()} tokens a row after a batch; logits, if any, to {@code logits}. */
    private BatchedKv advance(int[] ids, BatchedKv past, Logits logits) {
        int[] lengths = past.lengths();
        KvCache next = forward(ids, lengths, past.cache(), logits);
        int perRow = ids.length / lengths.length;
        for (int r = 0; r < lengths.length; r++) {
            lengths[r] += perRow;
        }
        return new BatchedKv(next, lengths);
    }

    /** Copies sequences' KV into one new batch, in order. */
    public BatchedKv pack(List<KvRow> rows) {
        return packer.pack(rows);
    }

    private KvCache forward(int[] ids, KvCache past, Logits logits) {
        return forward(ids, new int[] {past.length()}, past, logits);
    }

    private KvCache forward(int[] ids, int[] pastLengths, KvCache past, Logits logits) {
        try (KvCache.Lease lease = past.lease();
             StepInputs inputs = new StepInputs(env, io, ids, pastLengths, past, liveTensors)) {
            Map<String, OnnxValue> pinned = logits == null ? Map.of() : Map.of(DecoderIo.LOGITS, logits.tensor());
            long start = System.nanoTime();
            OrtSession.Result result = session.run(inputs.asMap(), presentOutputs, pinned);
            sessionRunNanos.add(System.nanoTime() - start);
            return presentsOf(result, past.length() + ids.length / pastLengths.length);
        } catch (OrtException e) {
            throw new InferenceException("ONNX Runtime failed to run the decoder: " + e.getMessage(), e);
        }
    }

    private KvCache presentsOf(OrtSession.Result result, int length) {
        List<OnnxTensor> tensors = new ArrayList<>(io.presentOutputs().size());
        for (String name : io.presentOutputs()) {
            tensors.add((OnnxTensor) result.get(name).orElseThrow());
        }
        return new KvCache(tensors, length, result, liveTensors);
    }

    private boolean probeManyTokensAfterPast() {
        try (KvCache one = forward(new int[] {0}, empty, null); KvCache three = forward(new int[] {0, 0}, one, null)) {
            return three.length() == 3;
        } catch (InferenceException e) {
            log.info("This export cannot run several tokens after a past ({}); prefill continuing after a past "
                    + "runs one token per pass", e.getMessage());
            return false;
        }
    }

    /**
     * Two rows of different lengths, batched, against each alone; and the longer row's prefix run in one pass
     * against a token a pass, which measures the export's own noise between pass shapes.
     */
    private boolean probeRowsOfDifferentLengths() {
        int[] longPrefix = {2, 3, 4};
        try (Logits alone = newLogits(); Logits batched = newLogits(2);
             KvCache shorter = extend(new int[] {1}, empty); KvCache longer = extend(longPrefix, empty);
             KvCache longerTokenByToken = extendTokenByToken(longPrefix);
             BatchedKv batch = pack(List.of(KvRow.of(shorter), KvRow.of(longer)));
             BatchedKv next = stepBatch(new int[] {5, 5}, batch, batched)) {
            float[] row = new float[io.vocabSize()];
            double worst = 0;
            boolean argmaxAgrees = true;
            KvCache[] caches = {shorter, longer};
            for (int r = 0; r < 2; r++) {
                step(5, caches[r], alone).close();
                float[] expected = alone.values();
                batched.copyRow(r, row);
                worst = Math.max(worst, BatchProbe.maxAbsDifference(expected, row));
                argmaxAgrees &= Logits.argmax(expected) == Logits.argmax(row);
            }
            float[] longerAlone = alone.values().clone();
            step(5, longerTokenByToken, alone).close();
            BatchProbe probe = new BatchProbe(worst, BatchProbe.maxAbsDifference(longerAlone, alone.values()),
                    argmaxAgrees);
            log.info("Batching probe: rows of different lengths batched differ from each alone by max |Δlogit| {} "
                            + "(argmax {}); the export's own noise between pass shapes is {}, so the tolerance is {}: "
                            + "{}", probe.batchedVsAlone(), argmaxAgrees ? "the same" : "differs", probe.shapeNoise(),
                    probe.tolerance(), probe.batches() ? "sequences are batched"
                            : "this export does not batch sequences of different lengths; they run one per pass");
            return probe.batches();
        } catch (InferenceException e) {
            log.info("This export does not batch sequences of different lengths ({}); sequences run one per pass",
                    e.getMessage());
            return false;
        }
    }

    private KvCache extendTokenByToken(int[] ids) {
        KvCache cache = empty;
        for (int id : ids) {
            KvCache next = forward(new int[] {id}, cache, null);
            cache.close();
            cache = next;
        }
        return cache;
    }

    /** The empty cache's tensors, tracked in {@code owner}. */
    private static List<OnnxTensor> zeroLengthPast(OrtEnvironment env, KvSpec kv, NativeScope owner)
            throws OrtException {
        List<OnnxTensor> tensors = new ArrayList<>(kv.tensorCount());
        ByteBuffer none = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder());
        for (int i = 0; i < kv.tensorCount(); i++) {
            tensors.add(owner.track(OnnxTensor.createTensor(env, none, kv.tensorShape(0), kv.dtype())));
        }
        return tensors;
    }

    @Override
    public void close() {
        natives.close();
    }
}
