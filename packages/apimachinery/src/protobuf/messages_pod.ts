/**
 * core/v1 Pod, PodTemplateSpec, PodSpec, Container, PodStatus and what they reference, except volumes
 * (package `core`). Table syntax: see schema.ts.
 */
import type { MessageTable } from './message_table.js';

export const podMessages: MessageTable = {
  LocalObjectReference: 'name=1:string?',
  Pod: 'metadata=1:meta.ObjectMeta spec=2:PodSpec status=3:PodStatus',
  PodSpec: 'volumes=1:Volume[]? initContainers=20:Container[]? containers=2:Container[] ' +
    'ephemeralContainers=34:EphemeralContainer[]? restartPolicy=3:string? terminationGracePeriodSeconds=4:int64* ' +
    'activeDeadlineSeconds=5:int64* dnsPolicy=6:string? nodeSelector=7:map<string>? serviceAccountName=8:string? ' +
    'serviceAccount=9:string? automountServiceAccountToken=21:bool* nodeName=10:string? hostNetwork=11:bool? ' +
    'hostPID=12:bool? hostIPC=13:bool? shareProcessNamespace=27:bool* securityContext=14:PodSecurityContext* ' +
    'imagePullSecrets=15:LocalObjectReference[]? hostname=16:string? subdomain=17:string? affinity=18:Affinity* ' +
    'schedulerName=19:string? tolerations=22:Toleration[]? hostAliases=23:HostAlias[]? ' +
    'priorityClassName=24:string? priority=25:int32* dnsConfig=26:PodDNSConfig* ' +
    'readinessGates=28:PodReadinessGate[]? runtimeClassName=29:string* enableServiceLinks=30:bool* ' +
    'preemptionPolicy=31:string* overhead=32:map<Quantity>? ' +
    'topologySpreadConstraints=33:TopologySpreadConstraint[]? setHostnameAsFQDN=35:bool* os=36:PodOS* ' +
    'hostUsers=37:bool* schedulingGates=38:PodSchedulingGate[]? resourceClaims=39:PodResourceClaim[]? ' +
    'resources=40:ResourceRequirements*',
  ObjectFieldSelector: 'apiVersion=1:string? fieldPath=2:string',
  ResourceFieldSelector: 'containerName=1:string? resource=2:string divisor=3:Quantity',
  Container: 'name=1:string image=2:string? command=3:string[]? args=4:string[]? workingDir=5:string? ' +
    'ports=6:ContainerPort[]? envFrom=19:EnvFromSource[]? env=7:EnvVar[]? resources=8:ResourceRequirements ' +
    'resizePolicy=23:ContainerResizePolicy[]? restartPolicy=24:string* volumeMounts=9:VolumeMount[]? ' +
    'volumeDevices=21:VolumeDevice[]? livenessProbe=10:Probe* readinessProbe=11:Probe* startupProbe=22:Probe* ' +
    'lifecycle=12:Lifecycle* terminationMessagePath=13:string? terminationMessagePolicy=20:string? ' +
    'imagePullPolicy=14:string? securityContext=15:SecurityContext* stdin=16:bool? stdinOnce=17:bool? tty=18:bool?',
  ContainerPort: 'name=1:string? hostPort=2:int32? containerPort=3:int32 protocol=4:string? hostIP=5:string?',
  EnvFromSource: 'prefix=1:string? configMapRef=2:ConfigMapEnvSource* secretRef=3:SecretEnvSource*',
  ConfigMapEnvSource: '=1:LocalObjectReference optional=2:bool*',
  SecretEnvSource: '=1:LocalObjectReference optional=2:bool*',
  EnvVar: 'name=1:string value=2:string? valueFrom=3:EnvVarSource*',
  EnvVarSource: 'fieldRef=1:ObjectFieldSelector* resourceFieldRef=2:ResourceFieldSelector* ' +
    'configMapKeyRef=3:ConfigMapKeySelector* secretKeyRef=4:SecretKeySelector*',
  ConfigMapKeySelector: '=1:LocalObjectReference key=2:string optional=3:bool*',
  SecretKeySelector: '=1:LocalObjectReference key=2:string optional=3:bool*',
  ResourceRequirements: 'limits=1:map<Quantity>? requests=2:map<Quantity>? claims=3:ResourceClaim[]?',
  ResourceClaim: 'name=1:string request=2:string?',
  ContainerResizePolicy: 'resourceName=1:string restartPolicy=2:string',
  VolumeMount: 'name=1:string readOnly=2:bool? recursiveReadOnly=7:string* mountPath=3:string subPath=4:string? ' +
    'mountPropagation=5:string* subPathExpr=6:string?',
  VolumeDevice: 'name=1:string devicePath=2:string',
  Probe: '=1:ProbeHandler initialDelaySeconds=2:int32? timeoutSeconds=3:int32? periodSeconds=4:int32? ' +
    'successThreshold=5:int32? failureThreshold=6:int32? terminationGracePeriodSeconds=7:int64*',
  ProbeHandler: 'exec=1:ExecAction* httpGet=2:HTTPGetAction* tcpSocket=3:TCPSocketAction* grpc=4:GRPCAction*',
  ExecAction: 'command=1:string[]?',
  HTTPGetAction: 'path=1:string? port=2:IntOrString host=3:string? scheme=4:string? httpHeaders=5:HTTPHeader[]?',
  HTTPHeader: 'name=1:string value=2:string',
  TCPSocketAction: 'port=1:IntOrString host=2:string?',
  GRPCAction: 'port=1:int32 service=2:string*',
  Lifecycle: 'postStart=1:LifecycleHandler* preStop=2:LifecycleHandler*',
  LifecycleHandler: 'exec=1:ExecAction* httpGet=2:HTTPGetAction* tcpSocket=3:TCPSocketAction* sleep=4:SleepAction*',
  SleepAction: 'seconds=1:int64',
  SecurityContext: 'capabilities=1:Capabilities* privileged=2:bool* seLinuxOptions=3:SELinuxOptions* ' +
    'windowsOptions=10:WindowsSecurityContextOptions* runAsUser=4:int64* runAsGroup=8:int64* runAsNonRoot=5:bool* ' +
    'readOnlyRootFilesystem=6:bool* allowPrivilegeEscalation=7:bool* procMount=9:string* ' +
    'seccompProfile=11:SeccompProfile* appArmorProfile=12:AppArmorProfile*',
  Capabilities: 'add=1:string[]? drop=2:string[]?',
  SELinuxOptions: 'user=1:string? role=2:string? type=3:string? level=4:string?',
  WindowsSecurityContextOptions: 'gmsaCredentialSpecName=1:string* gmsaCredentialSpec=2:string* ' +
    'runAsUserName=3:string* hostProcess=4:bool*',
  SeccompProfile: 'type=1:string localhostProfile=2:string*',
  AppArmorProfile: 'type=1:string localhostProfile=2:string*',
  EphemeralContainer: '=1:EphemeralContainerCommon targetContainerName=2:string?',
  EphemeralContainerCommon: 'name=1:string image=2:string? command=3:string[]? args=4:string[]? ' +
    'workingDir=5:string? ports=6:ContainerPort[]? envFrom=19:EnvFromSource[]? env=7:EnvVar[]? ' +
    'resources=8:ResourceRequirements resizePolicy=23:ContainerResizePolicy[]? restartPolicy=24:string* ' +
    'volumeMounts=9:VolumeMount[]? volumeDevices=21:VolumeDevice[]? livenessProbe=10:Probe* ' +
    'readinessProbe=11:Probe* startupProbe=22:Probe* lifecycle=12:Lifecycle* terminationMessagePath=13:string? ' +
    'terminationMessagePolicy=20:string? imagePullPolicy=14:string? securityContext=15:SecurityContext* ' +
    'stdin=16:bool? stdinOnce=17:bool? tty=18:bool?',
  PodSecurityContext: 'seLinuxOptions=1:SELinuxOptions* windowsOptions=8:WindowsSecurityContextOptions* ' +
    'runAsUser=2:int64* runAsGroup=6:int64* runAsNonRoot=3:bool* supplementalGroups=4:int64[]? ' +
    'supplementalGroupsPolicy=12:string* fsGroup=5:int64* sysctls=7:Sysctl[]? fsGroupChangePolicy=9:string* ' +
    'seccompProfile=10:SeccompProfile* appArmorProfile=11:AppArmorProfile* seLinuxChangePolicy=13:string*',
  Sysctl: 'name=1:string value=2:string',
  Affinity: 'nodeAffinity=1:NodeAffinity* podAffinity=2:PodAffinity* podAntiAffinity=3:PodAntiAffinity*',
  NodeAffinity: 'requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector* ' +
    'preferredDuringSchedulingIgnoredDuringExecution=2:PreferredSchedulingTerm[]?',
  NodeSelector: 'nodeSelectorTerms=1:NodeSelectorTerm[]',
  NodeSelectorTerm: 'matchExpressions=1:NodeSelectorRequirement[]? matchFields=2:NodeSelectorRequirement[]?',
  NodeSelectorRequirement: 'key=1:string operator=2:string values=3:string[]?',
  PreferredSchedulingTerm: 'weight=1:int32 preference=2:NodeSelectorTerm',
  PodAffinity: 'requiredDuringSchedulingIgnoredDuringExecution=1:PodAffinityTerm[]? ' +
    'preferredDuringSchedulingIgnoredDuringExecution=2:WeightedPodAffinityTerm[]?',
  PodAffinityTerm: 'labelSelector=1:meta.LabelSelector* namespaces=2:string[]? topologyKey=3:string ' +
    'namespaceSelector=4:meta.LabelSelector* matchLabelKeys=5:string[]? mismatchLabelKeys=6:string[]?',
  WeightedPodAffinityTerm: 'weight=1:int32 podAffinityTerm=2:PodAffinityTerm',
  PodAntiAffinity: 'requiredDuringSchedulingIgnoredDuringExecution=1:PodAffinityTerm[]? ' +
    'preferredDuringSchedulingIgnoredDuringExecution=2:WeightedPodAffinityTerm[]?',
  Toleration: 'key=1:string? operator=2:string? value=3:string? effect=4:string? tolerationSeconds=5:int64*',
  HostAlias: 'ip=1:string hostnames=2:string[]?',
  PodDNSConfig: 'nameservers=1:string[]? searches=2:string[]? options=3:PodDNSConfigOption[]?',
  PodDNSConfigOption: 'name=1:string? value=2:string*',
  PodReadinessGate: 'conditionType=1:string',
  TopologySpreadConstraint: 'maxSkew=1:int32 topologyKey=2:string whenUnsatisfiable=3:string ' +
    'labelSelector=4:meta.LabelSelector* minDomains=5:int32* nodeAffinityPolicy=6:string* ' +
    'nodeTaintsPolicy=7:string* matchLabelKeys=8:string[]?',
  PodOS: 'name=1:string',
  PodSchedulingGate: 'name=1:string',
  PodResourceClaim: 'name=1:string resourceClaimName=3:string* resourceClaimTemplateName=4:string*',
  PodStatus: 'phase=1:string? conditions=2:PodCondition[]? message=3:string? reason=4:string? ' +
    'nominatedNodeName=11:string? hostIP=5:string? hostIPs=16:HostIP[]? podIP=6:string? podIPs=12:PodIP[]? ' +
    'startTime=7:Time* initContainerStatuses=10:ContainerStatus[]? containerStatuses=8:ContainerStatus[]? ' +
    'qosClass=9:string? ephemeralContainerStatuses=13:ContainerStatus[]? resize=14:string? ' +
    'resourceClaimStatuses=15:PodResourceClaimStatus[]?',
  PodCondition: 'type=1:string status=2:string lastProbeTime=3:Time lastTransitionTime=4:Time reason=5:string? ' +
    'message=6:string?',
  HostIP: 'ip=1:string',
  PodIP: 'ip=1:string',
  ContainerStatus: 'name=1:string state=2:ContainerState lastState=3:ContainerState ready=4:bool ' +
    'restartCount=5:int32 image=6:string imageID=7:string containerID=8:string? started=9:bool* ' +
    'allocatedResources=10:map<Quantity>? resources=11:ResourceRequirements* volumeMounts=12:VolumeMountStatus[]? ' +
    'user=13:ContainerUser* allocatedResourcesStatus=14:ResourceStatus[]?',
  ContainerState: 'waiting=1:ContainerStateWaiting* running=2:ContainerStateRunning* ' +
    'terminated=3:ContainerStateTerminated*',
  ContainerStateWaiting: 'reason=1:string? message=2:string?',
  ContainerStateRunning: 'startedAt=1:Time',
  ContainerStateTerminated: 'exitCode=1:int32 signal=2:int32? reason=3:string? message=4:string? startedAt=5:Time ' +
    'finishedAt=6:Time containerID=7:string?',
  VolumeMountStatus: 'name=1:string mountPath=2:string readOnly=3:bool? recursiveReadOnly=4:string*',
  ContainerUser: 'linux=1:LinuxContainerUser*',
  LinuxContainerUser: 'uid=1:int64 gid=2:int64 supplementalGroups=3:int64[]?',
  ResourceStatus: 'name=1:string resources=2:ResourceHealth[]?',
  ResourceHealth: 'resourceID=1:string health=2:string?',
  PodResourceClaimStatus: 'name=1:string resourceClaimName=2:string*',
  PodTemplateSpec: 'metadata=1:meta.ObjectMeta spec=2:PodSpec',
};
