// ImageSource over SSM public parameters and DescribeImages: a parameter such as
// /aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id or
// /aws/service/neuron/dlami/base/ubuntu-24.04/latest/image_id holds the id of the latest AMI (whatever
// the parameter's last segment is called); DescribeImages gives its root device name (Ubuntu
// /dev/sda1, Amazon Linux /dev/xvda).
import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { ImageSource } from '../ports/catalog.js';
import { withSignal } from './sdk-util.js';

export function createImageSource(ssm: SSMClient, ec2: EC2Client): ImageSource {
  return {
    async resolve(parameterOrAmi, signal) {
      let imageId = parameterOrAmi;
      if (parameterOrAmi.startsWith('/')) {
        const p = await ssm.send(new GetParameterCommand({ Name: parameterOrAmi }), withSignal(signal));
        imageId = p.Parameter?.Value ?? '';
      }
      if (!/^ami-[0-9a-f]+$/.test(imageId)) throw new Error(`${parameterOrAmi} does not name an AMI (got "${imageId}")`);
      const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }), withSignal(signal));
      const root = images.Images?.[0]?.RootDeviceName;
      if (root === undefined) throw new Error(`AMI ${imageId} was not found or has no root device`);
      return { imageId, rootDeviceName: root };
    },
  };
}
