// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice What the coordinator asks of the registry: the attestation's EIP-712 digest, signer
/// recovery and the worker list (`VerificationRegistry`).
interface IAttestations {
    struct Attestation {
        bytes32 jobId;
        bytes32 codeHash;
        bytes32 inputHash;
        bytes32 outputHash;
        bytes32 expectedHash;
        uint64 fuelUsed;
        uint8 result;
        bytes32 runtimeId;
    }

    function signingHash(Attestation calldata a) external view returns (bytes32);
    function recoverSigner(bytes32 digest, bytes calldata signature) external pure returns (address);
    function workers(address worker)
        external
        view
        returns (bool active, bytes32 configHash, uint64 registeredAt, bool selfSigned);
}

/// @notice A contract that asked for compute gets the result here.
interface IComputeConsumer {
    function receiveCompute(uint256 requestId, uint32 interval, bytes calldata output, bytes32 attestationHash)
        external;
}

/// @title ComputeCoordinator
/// @notice On-chain compute requests (issue 14, document 001's `pending.onchain`). A consumer
/// contract asks once (`requestCompute`) or on a schedule (`createSubscription`: `frequency`
/// runs, one every `period` seconds), paying in ETH up front, for one container named by
/// `containersHash`, or for a chain of containers (`requestChain`: container i's output is
/// container i+1's input). `containersHash` is Notary's first chain link,
/// `sha256("notary-chain:v1" ‖ module hashes)`.
///
/// The node (a Notary coordinator) runs the chain on `input` and delivers each interval with
/// `deliverCompute(requestId, interval, output, steps, signatures)`: one attestation per step
/// with its workers' signatures. The contract walks the chain as Notary links it: step 0 reads
/// this input (`inputHash = sha256(input)`), step i+1 reads step i's output (its `inputHash` is
/// step i's `outputHash`), step i claims the link `linkᵢ` as its `expectedHash` (`link₀ =
/// containersHash`, `linkᵢ₊₁ = sha256(linkᵢ ‖ signing hash of step i)`), at least `redundancy`
/// distinct registered workers signed each step (checked through the registry), the output
/// hashes to the last step's `outputHash`, and the steps' fuel adds up to at most `maxFuel`.
/// The consumer gets the link after the last step (the chain hash, naming every step's
/// attestation). Each (request, interval) ends once: delivered, or refused by the node
/// (`refuseCompute`: the run failed or cannot be done), whose payment is then credited back to
/// the consumer (`refunds`, taken with `claimRefund`). The consumer's `receiveCompute`
/// is called with bounded gas; if it reverts the delivery still counts and the node is still
/// paid (`ComputeDelivered.accepted` says so), so a broken consumer blocks nobody.
contract ComputeCoordinator {
    struct Request {
        address consumer;
        bytes32 containersHash;
        bytes32 inputHash;
        uint64 maxFuel;
        uint16 redundancy;
        uint16 steps;
        uint32 frequency;
        uint32 period;
        uint64 createdAt;
        uint32 delivered;
        uint256 paymentPerInterval;
    }

    /// @notice Gas the consumer's callback gets.
    uint256 public constant CALLBACK_GAS = 500_000;
    /// @notice Most containers in one chain (the coordinator's default `--max-chain`).
    uint256 public constant MAX_STEPS = 8;

    IAttestations public immutable registry;
    /// @notice The only account that delivers (and is paid).
    address public immutable node;
    uint256 public requestCount;
    /// @notice Payments of delivered intervals, not withdrawn yet.
    uint256 public earned;
    mapping(uint256 => Request) public requests;
    mapping(uint256 => mapping(uint32 => bool)) public delivered;
    mapping(uint256 => mapping(uint32 => bool)) public refused;
    /// @notice Payments of refused intervals, per consumer, not claimed yet.
    mapping(address => uint256) public refunds;

    event ComputeRequested(
        uint256 indexed requestId,
        address indexed consumer,
        bytes32 containersHash,
        bytes32[] containers,
        bytes input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period,
        uint256 paymentPerInterval
    );
    event ComputeDelivered(
        uint256 indexed requestId, uint32 indexed interval, bytes32 attestationHash, bytes output, bool accepted
    );
    event ComputeRefused(uint256 indexed requestId, uint32 indexed interval, string reason);
    event Withdrawn(address indexed to, uint256 amount);
    event RefundClaimed(address indexed consumer, address to, uint256 amount);

    error NotNode();
    error UnknownRequest(uint256 requestId);
    error BadSchedule();
    error BadPayment(uint256 value, uint32 frequency);
    error NoSuchInterval(uint32 interval, uint32 frequency);
    error NotDue(uint64 dueAt);
    error AlreadyDelivered(uint256 requestId, uint32 interval);
    error AlreadyRefused(uint256 requestId, uint32 interval);
    error OutputMismatch();
    error NotThisJob();
    error FuelAboveMax(uint256 fuelUsed, uint64 maxFuel);
    error BadChain(uint256 steps, uint16 expected);
    error NotEnoughSigners(uint256 valid, uint16 redundancy);
    error TransferFailed();

    constructor(address registry_, address node_) {
        registry = IAttestations(registry_);
        node = node_;
    }

    /// @notice One run of `containersHash` on `input`, paid with `msg.value`.
    function requestCompute(bytes32 containersHash, bytes calldata input, uint64 maxFuel, uint16 redundancy)
        external
        payable
        returns (uint256)
    {
        return _open(containersHash, new bytes32[](0), 1, input, maxFuel, redundancy, 1, 0);
    }

    /// @notice `frequency` runs, one every `period` seconds from now; `msg.value` pays them all
    /// in equal parts.
    function createSubscription(
        bytes32 containersHash,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) external payable returns (uint256) {
        return _open(containersHash, new bytes32[](0), 1, input, maxFuel, redundancy, frequency, period);
    }

    /// @notice A chain of `containers` (module hashes, 1 to `MAX_STEPS`), run `frequency`
    /// times one `period` apart (1 and 0: once); `maxFuel` bounds the whole chain.
    function requestChain(
        bytes32[] calldata containers,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) external payable returns (uint256) {
        if (containers.length == 0 || containers.length > MAX_STEPS) revert BadSchedule();
        bytes32 hash = sha256(abi.encodePacked("notary-chain:v1", containers));
        return _open(hash, containers, uint16(containers.length), input, maxFuel, redundancy, frequency, period);
    }

    function _open(
        bytes32 containersHash,
        bytes32[] memory containers,
        uint16 steps,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) private returns (uint256 id) {
        if (frequency == 0 || redundancy == 0 || maxFuel == 0) revert BadSchedule();
        if (frequency > 1 && period == 0) revert BadSchedule();
        if (msg.value % frequency != 0) revert BadPayment(msg.value, frequency);
        id = ++requestCount;
        requests[id] = Request({
            consumer: msg.sender,
            containersHash: containersHash,
            inputHash: sha256(input),
            maxFuel: maxFuel,
            redundancy: redundancy,
            steps: steps,
            frequency: frequency,
            period: period,
            createdAt: uint64(block.timestamp),
            delivered: 0,
            paymentPerInterval: msg.value / frequency
        });
        emit ComputeRequested(
            id,
            msg.sender,
            containersHash,
            containers,
            input,
            maxFuel,
            redundancy,
            frequency,
            period,
            msg.value / frequency
        );
    }

    /// @notice When `interval` of `requestId` may be delivered (unix seconds).
    function dueAt(uint256 requestId, uint32 interval) public view returns (uint64) {
        Request storage r = requests[requestId];
        return r.createdAt + uint64(interval) * r.period;
    }

    /// @notice Delivers one interval's result: one attestation per step of the chain, each with
    /// its workers' signatures (see the contract notes for what is checked).
    function deliverCompute(
        uint256 requestId,
        uint32 interval,
        bytes calldata output,
        IAttestations.Attestation[] calldata steps,
        bytes[][] calldata signatures
    ) external {
        if (msg.sender != node) revert NotNode();
        Request storage r = requests[requestId];
        if (r.consumer == address(0)) revert UnknownRequest(requestId);
        if (interval >= r.frequency) revert NoSuchInterval(interval, r.frequency);
        uint64 due = dueAt(requestId, interval);
        if (block.timestamp < due) revert NotDue(due);
        if (delivered[requestId][interval]) revert AlreadyDelivered(requestId, interval);
        if (refused[requestId][interval]) revert AlreadyRefused(requestId, interval);
        bytes32 chainHash = _walk(r, output, steps, signatures);
        delivered[requestId][interval] = true;
        r.delivered += 1;
        earned += r.paymentPerInterval;
        bool accepted;
        try IComputeConsumer(r.consumer).receiveCompute{gas: CALLBACK_GAS}(requestId, interval, output, chainHash) {
            accepted = true;
        } catch {
            accepted = false;
        }
        emit ComputeDelivered(requestId, interval, chainHash, output, accepted);
    }

    /// @dev Checks the steps against the request (see the contract notes); the chain hash.
    function _walk(
        Request storage r,
        bytes calldata output,
        IAttestations.Attestation[] calldata steps,
        bytes[][] calldata signatures
    ) private view returns (bytes32 link) {
        if (steps.length != r.steps || signatures.length != steps.length) revert BadChain(steps.length, r.steps);
        link = r.containersHash;
        bytes32 input = r.inputHash;
        uint256 fuel;
        for (uint256 i = 0; i < steps.length; i++) {
            if (steps[i].inputHash != input || steps[i].expectedHash != link) revert NotThisJob();
            fuel += steps[i].fuelUsed;
            bytes32 digest = registry.signingHash(steps[i]);
            _checkSigners(digest, signatures[i], r.redundancy);
            link = sha256(abi.encodePacked(link, digest));
            input = steps[i].outputHash;
        }
        if (input != sha256(output)) revert OutputMismatch();
        if (fuel > r.maxFuel) revert FuelAboveMax(fuel, r.maxFuel);
    }

    function _checkSigners(bytes32 digest, bytes[] calldata signatures, uint16 redundancy) private view {
        address[] memory seen = new address[](signatures.length);
        uint256 valid;
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = registry.recoverSigner(digest, signatures[i]);
            (bool active,,,) = registry.workers(signer);
            if (!active) continue;
            bool duplicate;
            for (uint256 j = 0; j < valid; j++) {
                if (seen[j] == signer) duplicate = true;
            }
            if (duplicate) continue;
            seen[valid++] = signer;
        }
        if (valid < redundancy) revert NotEnoughSigners(valid, redundancy);
    }

    /// @notice Whether `interval` of `requestId` has ended (delivered or refused).
    function ended(uint256 requestId, uint32 interval) external view returns (bool) {
        return delivered[requestId][interval] || refused[requestId][interval];
    }

    /// @notice The node gives up an interval it cannot deliver (its run failed, or the request
    /// cannot be run): the interval ends undelivered and its payment is credited back to the
    /// consumer. Any interval, due or not.
    function refuseCompute(uint256 requestId, uint32 interval, string calldata reason) external {
        if (msg.sender != node) revert NotNode();
        Request storage r = requests[requestId];
        if (r.consumer == address(0)) revert UnknownRequest(requestId);
        if (interval >= r.frequency) revert NoSuchInterval(interval, r.frequency);
        if (delivered[requestId][interval]) revert AlreadyDelivered(requestId, interval);
        if (refused[requestId][interval]) revert AlreadyRefused(requestId, interval);
        refused[requestId][interval] = true;
        refunds[r.consumer] += r.paymentPerInterval;
        emit ComputeRefused(requestId, interval, reason);
    }

    /// @notice A consumer takes the payments of its refused intervals.
    function claimRefund(address payable to) external {
        uint256 amount = refunds[msg.sender];
        refunds[msg.sender] = 0;
        emit RefundClaimed(msg.sender, to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    /// @notice The node takes what it earned.
    function withdraw(address payable to) external {
        if (msg.sender != node) revert NotNode();
        uint256 amount = earned;
        earned = 0;
        emit Withdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}

/// @title SampleConsumer
/// @notice The consumer contract of the tests and the README: asks for compute, keeps what it
/// received, and can be told to revert (a broken consumer must not block deliveries).
contract SampleConsumer is IComputeConsumer {
    address public immutable coordinator;
    bool public broken;
    uint256 public received;
    mapping(uint256 => mapping(uint32 => bytes)) public outputs;
    mapping(uint256 => mapping(uint32 => bytes32)) public attestations;

    error OnlyCoordinator();
    error Broken();

    constructor(address coordinator_) {
        coordinator = coordinator_;
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    /// @notice Takes the refunds of refused intervals to `to` (a real consumer guards this).
    function claim(address payable to) external {
        ComputeCoordinator(coordinator).claimRefund(to);
    }

    function ask(bytes32 containersHash, bytes calldata input, uint64 maxFuel, uint16 redundancy)
        external
        payable
        returns (uint256)
    {
        return ComputeCoordinator(coordinator).requestCompute{value: msg.value}(
            containersHash, input, maxFuel, redundancy
        );
    }

    function askChain(
        bytes32[] calldata containers,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) external payable returns (uint256) {
        return ComputeCoordinator(coordinator).requestChain{value: msg.value}(
            containers, input, maxFuel, redundancy, frequency, period
        );
    }

    function subscribe(
        bytes32 containersHash,
        bytes calldata input,
        uint64 maxFuel,
        uint16 redundancy,
        uint32 frequency,
        uint32 period
    ) external payable returns (uint256) {
        return ComputeCoordinator(coordinator).createSubscription{value: msg.value}(
            containersHash, input, maxFuel, redundancy, frequency, period
        );
    }

    function receiveCompute(uint256 requestId, uint32 interval, bytes calldata output, bytes32 attestationHash)
        external
    {
        if (msg.sender != coordinator) revert OnlyCoordinator();
        if (broken) revert Broken();
        outputs[requestId][interval] = output;
        attestations[requestId][interval] = attestationHash;
        received += 1;
    }
}
