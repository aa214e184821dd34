// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title AgentIdentityRegistry
/// @notice ERC-8004's Identity Registry for the local chain: each agent is an ERC-721 token
/// (`agentId`) whose owner, approved address or operator may act for it. This is the subset the
/// Validation Registry needs (register, ownership, approvals, transfers, the agent's URI); it is
/// not a full ERC-721 (no safe transfers, no ERC-165), because nothing here receives tokens.
contract AgentIdentityRegistry {
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    error NotOwnerOrApproved();
    error UnknownAgent(uint256 agentId);
    error ZeroAddress();

    uint256 private next;
    mapping(uint256 => address) private owners;
    mapping(address => uint256) public balanceOf;
    mapping(uint256 => address) public getApproved;
    mapping(address => mapping(address => bool)) public isApprovedForAll;
    mapping(uint256 => string) private uris;

    /// @notice Registers a new agent owned by the caller; agent ids start at 1.
    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = ++next;
        owners[agentId] = msg.sender;
        balanceOf[msg.sender] += 1;
        uris[agentId] = agentURI;
        emit Transfer(address(0), msg.sender, agentId);
        emit Registered(agentId, agentURI, msg.sender);
    }

    function ownerOf(uint256 agentId) public view returns (address owner) {
        owner = owners[agentId];
        if (owner == address(0)) revert UnknownAgent(agentId);
    }

    function tokenURI(uint256 agentId) external view returns (string memory) {
        ownerOf(agentId);
        return uris[agentId];
    }

    /// @notice Whether `who` may act for `agentId` (owner, approved address or operator).
    function isAuthorized(address who, uint256 agentId) public view returns (bool) {
        address owner = ownerOf(agentId);
        return who == owner || getApproved[agentId] == who || isApprovedForAll[owner][who];
    }

    function approve(address to, uint256 agentId) external {
        address owner = ownerOf(agentId);
        if (msg.sender != owner && !isApprovedForAll[owner][msg.sender]) revert NotOwnerOrApproved();
        getApproved[agentId] = to;
        emit Approval(owner, to, agentId);
    }

    function setApprovalForAll(address operator, bool approved) external {
        isApprovedForAll[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function transferFrom(address from, address to, uint256 agentId) external {
        if (to == address(0)) revert ZeroAddress();
        if (ownerOf(agentId) != from || !isAuthorized(msg.sender, agentId)) revert NotOwnerOrApproved();
        delete getApproved[agentId];
        balanceOf[from] -= 1;
        balanceOf[to] += 1;
        owners[agentId] = to;
        emit Transfer(from, to, agentId);
    }
}

/// @notice What the Validation Registry asks of the Identity Registry.
interface IAgentIdentity {
    function isAuthorized(address who, uint256 agentId) external view returns (bool);
}

/// @title ValidationRegistry
/// @notice ERC-8004's Validation Registry (its published interface): an agent's owner or
/// operator opens a request naming a validator (`validationRequest`); only that validator
/// answers it (`validationResponse`, 0..100, callable again for progressive answers); anyone
/// reads the latest answer (`getValidationStatus`) and an agent's summary (`getSummary`).
/// Notary is such a validator (issue 13): it answers a job's `erc8004RequestHash` with 100
/// (VALID) or 0, the job's result URL, the attestation digest and the deciding tier as tag.
contract ValidationRegistry {
    event ValidationRequest(
        address indexed validatorAddress, uint256 indexed agentId, string requestURI, bytes32 indexed requestHash
    );
    event ValidationResponse(
        address indexed validatorAddress,
        uint256 indexed agentId,
        bytes32 indexed requestHash,
        uint8 response,
        string responseURI,
        bytes32 responseHash,
        string tag
    );

    error NotAgentOwnerOrOperator(uint256 agentId);
    error ZeroValidator();
    error RequestExists(bytes32 requestHash);
    error UnknownRequest(bytes32 requestHash);
    error NotValidator(address expected);
    error ResponseOutOfRange(uint8 response);

    struct Status {
        address validatorAddress;
        uint256 agentId;
        uint8 response;
        bytes32 responseHash;
        string tag;
        uint256 lastUpdate;
        bool hasResponse;
    }

    address public immutable identityRegistry;
    mapping(bytes32 => Status) private statuses;
    mapping(uint256 => bytes32[]) private agentValidations;
    mapping(address => bytes32[]) private validatorRequests;

    constructor(address identityRegistry_) {
        identityRegistry = identityRegistry_;
    }

    function getIdentityRegistry() external view returns (address) {
        return identityRegistry;
    }

    /// @notice Opens a request: the caller must own or operate `agentId`; `requestHash` commits
    /// to what is to be validated and is used once.
    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external {
        if (validatorAddress == address(0)) revert ZeroValidator();
        if (!IAgentIdentity(identityRegistry).isAuthorized(msg.sender, agentId)) {
            revert NotAgentOwnerOrOperator(agentId);
        }
        if (statuses[requestHash].validatorAddress != address(0)) revert RequestExists(requestHash);
        Status storage s = statuses[requestHash];
        s.validatorAddress = validatorAddress;
        s.agentId = agentId;
        agentValidations[agentId].push(requestHash);
        validatorRequests[validatorAddress].push(requestHash);
        emit ValidationRequest(validatorAddress, agentId, requestURI, requestHash);
    }

    /// @notice The requested validator's answer (0..100); a later call replaces it.
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external {
        Status storage s = statuses[requestHash];
        if (s.validatorAddress == address(0)) revert UnknownRequest(requestHash);
        if (msg.sender != s.validatorAddress) revert NotValidator(s.validatorAddress);
        if (response > 100) revert ResponseOutOfRange(response);
        s.response = response;
        s.responseHash = responseHash;
        s.tag = tag;
        s.lastUpdate = block.timestamp;
        s.hasResponse = true;
        emit ValidationResponse(s.validatorAddress, s.agentId, requestHash, response, responseURI, responseHash, tag);
    }

    function getValidationStatus(bytes32 requestHash)
        external
        view
        returns (
            address validatorAddress,
            uint256 agentId,
            uint8 response,
            bytes32 responseHash,
            string memory tag,
            uint256 lastUpdate
        )
    {
        Status storage s = statuses[requestHash];
        if (s.validatorAddress == address(0)) revert UnknownRequest(requestHash);
        return (s.validatorAddress, s.agentId, s.response, s.responseHash, s.tag, s.lastUpdate);
    }

    /// @notice How many answered requests of `agentId` match the filters (no validators: any;
    /// empty tag: any) and their average response.
    function getSummary(uint256 agentId, address[] calldata validatorAddresses, string calldata tag)
        external
        view
        returns (uint64 count, uint8 averageResponse)
    {
        bytes32[] storage hashes = agentValidations[agentId];
        uint256 total;
        bytes32 wanted = keccak256(bytes(tag));
        for (uint256 i = 0; i < hashes.length; i++) {
            Status storage s = statuses[hashes[i]];
            if (!s.hasResponse) continue;
            if (bytes(tag).length != 0 && keccak256(bytes(s.tag)) != wanted) continue;
            if (validatorAddresses.length != 0) {
                bool named;
                for (uint256 j = 0; j < validatorAddresses.length; j++) {
                    if (validatorAddresses[j] == s.validatorAddress) named = true;
                }
                if (!named) continue;
            }
            count++;
            total += s.response;
        }
        averageResponse = count == 0 ? 0 : uint8(total / count);
    }

    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory) {
        return agentValidations[agentId];
    }

    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory) {
        return validatorRequests[validatorAddress];
    }
}
